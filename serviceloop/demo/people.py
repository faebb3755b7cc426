"""The demo company, Tillwise, and its customers: names, organizations, identities, staff.

Tillwise sells a point-of-sale system to independent shops, cafés and restaurants: card
readers and receipt printers shipped from its warehouse, and the POS app and Back Office
on a Free, Pro or Enterprise plan. Every address uses the reserved `.example` domain, so
no demo customer is a real mailbox.
"""

import random
import re
from dataclasses import dataclass, field
from datetime import time
from functools import cache
from zoneinfo import ZoneInfo

from serviceloop.demo.rhythm import Shift

COMPANY = "Tillwise"
COMPANY_DOMAIN = "tillwise.example"

# --- Staff: the same people for every seed, so the docs can name them ---------------------

WEEKDAYS = frozenset(range(5))


@dataclass(frozen=True)
class StaffMember:
    username: str
    first_name: str
    last_name: str
    role: str
    teams: tuple[str, ...]
    skills: tuple[str, ...]
    zone: str
    hours: tuple[int, int]
    days: frozenset[int] = WEEKDAYS
    capacity: int = 30
    signature: str = ""

    @property
    def shift(self) -> Shift:
        return Shift(ZoneInfo(self.zone), time(self.hours[0]), time(self.hours[1]), self.days)


CUSTOMER_SUPPORT = "Customer Support"
BILLING = "Billing"
TECHNICAL_SUPPORT = "Technical Support"

TEAMS = (
    (CUSTOMER_SUPPORT, "round_robin", "Orders, deliveries, accounts and how-to questions."),
    (BILLING, "least_loaded", "Subscriptions, invoices, refunds and payouts."),
    (TECHNICAL_SUPPORT, "manual", "Hardware faults, bugs, integrations and the API."),
)

STAFF = (
    StaffMember(
        "maya.lindqvist", "Maya", "Lindqvist", "supervisor",
        (CUSTOMER_SUPPORT, TECHNICAL_SUPPORT), ("english", "swedish", "enterprise"),
        "Europe/London", (8, 17), capacity=15,
        signature="Maya Lindqvist\nSupport Lead, Tillwise",
    ),
    StaffMember(
        "sam.okafor", "Sam", "Okafor", "agent", (CUSTOMER_SUPPORT,), ("english", "hardware"),
        "Europe/London", (8, 17), frozenset({0, 1, 2, 3, 5}), signature="Cheers,\nSam",
    ),
    StaffMember(
        "lucia.fernandez", "Lucía", "Fernández", "agent", (CUSTOMER_SUPPORT,),
        ("english", "spanish"), "Europe/Madrid", (9, 18), signature="Un saludo,\nLucía",
    ),
    StaffMember(
        "tom.becker", "Tom", "Becker", "agent", (CUSTOMER_SUPPORT, TECHNICAL_SUPPORT),
        ("english", "german", "hardware"), "Europe/Berlin", (9, 18),
        signature="Best regards,\nTom Becker\nTillwise Support",
    ),
    StaffMember(
        "aisha.rahman", "Aisha", "Rahman", "agent", (CUSTOMER_SUPPORT,), ("english",),
        "America/New_York", (9, 18), signature="Thanks,\nAisha",
    ),
    StaffMember(
        "daniel.kim", "Daniel", "Kim", "agent", (CUSTOMER_SUPPORT,), ("english", "korean"),
        "America/Chicago", (8, 17), frozenset({1, 2, 3, 4, 6}), signature="Best,\nDaniel",
    ),
    StaffMember(
        "jess.moreau", "Jess", "Moreau", "agent", (CUSTOMER_SUPPORT,), ("english", "french"),
        "America/Los_Angeles", (8, 17), signature="Take care,\nJess",
    ),
    StaffMember(
        "chloe.martin", "Chloé", "Martin", "agent", (BILLING,), ("billing", "french"),
        "Europe/Paris", (9, 18), signature="Kind regards,\nChloé Martin\nTillwise Billing",
    ),
    StaffMember(
        "marcus.reid", "Marcus", "Reid", "agent", (BILLING,), ("billing", "payments"),
        "America/New_York", (9, 18), signature="Best,\nMarcus\nTillwise Billing",
    ),
    StaffMember(
        "ravi.menon", "Ravi", "Menon", "agent", (TECHNICAL_SUPPORT,),
        ("api", "integrations", "english"), "Europe/London", (9, 18),
        signature="Cheers,\nRavi\nTillwise Technical Support",
    ),
    StaffMember(
        "elena.petrova", "Elena", "Petrova", "agent", (TECHNICAL_SUPPORT,),
        ("hardware", "integrations", "german"), "Europe/Berlin", (9, 18),
        signature="Best regards,\nElena",
    ),
    # Engineering lends a developer to the queue: reads everything, writes internal notes,
    # and answers the tickets given to her.
    StaffMember(
        "priya.nair", "Priya", "Nair", "contributor", (TECHNICAL_SUPPORT,),
        ("api", "firmware"), "Europe/London", (10, 18), capacity=5,
        signature="Priya Nair\nEngineering, Tillwise",
    ),
)  # fmt: skip

SKILLS = sorted({skill for member in STAFF for skill in member.skills})

CUSTOM_STATUSES = (
    ("Waiting on warehouse", "pending"),
    ("Escalated to engineering", "on_hold"),
)

PLANS = ("Free", "Pro", "Enterprise")
DEVICES = (
    "Tillwise Reader M2",
    "Tillwise Printer P1",
    "Cash Drawer CD-40",
    "Tablet Stand S1",
    "Tillwise POS app (iPad)",
    "Tillwise POS app (Android)",
    "Back Office",
)
HARDWARE = DEVICES[:4]

TICKET_FIELDS = (
    {"key": "order_number", "label": "Order number", "kind": "text", "position": 1},
    {"key": "plan", "label": "Plan", "kind": "dropdown", "options": list(PLANS), "position": 2},
    {"key": "product", "label": "Product", "kind": "dropdown", "options": list(DEVICES),
     "position": 3},
)  # fmt: skip

# --- Customers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Region:
    country: str
    zone: str
    locale: str
    currency: str
    dialling_code: str
    weight: int


REGIONS = (
    Region("US", "America/New_York", "en-US", "$", "1", 26),
    Region("US", "America/Chicago", "en-US", "$", "1", 10),
    Region("US", "America/Los_Angeles", "en-US", "$", "1", 12),
    Region("GB", "Europe/London", "en-GB", "£", "44", 20),
    Region("IE", "Europe/Dublin", "en-IE", "€", "353", 4),
    Region("DE", "Europe/Berlin", "de-DE", "€", "49", 10),
    Region("NL", "Europe/Amsterdam", "nl-NL", "€", "31", 6),
    Region("FR", "Europe/Paris", "fr-FR", "€", "33", 5),
    Region("ES", "Europe/Madrid", "es-ES", "€", "34", 4),
    Region("AU", "Australia/Sydney", "en-AU", "A$", "61", 3),
)


def _listed(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(","))


FIRST_NAMES = _listed(
    "Olivia, Liam, Emma, Noah, Amelia, Oliver, Sophia, Elijah, Mia, James, Charlotte, Lucas, "
    "Ava, Mateo, Isla, Leo, Freya, Arjun, Ananya, Wei, Mei, Hiroshi, Yuki, Kwame, Amara, "
    "Tariq, Layla, Omar, Fatima, Sven, Ingrid, Lars, Anja, Jonas, Lena, Felix, Clara, Lukas, "
    "Marie, Hugo, Chloe, Louis, Camille, Pablo, Lucia, Diego, Carmen, Sofia, Marco, Giulia, "
    "Luca, Aoife, Cian, Niamh, Connor, Siobhan, Daan, Sanne, Thijs, Fleur, Ruben, Eva, Grace, "
    "Henry, Zoe, Jack, Ruby, Harry, Poppy, George, Lily, Rosa, Ines, Tomasz, Kasia, Nikolai, "
    "Irina, Dmitri, Ayesha, Imran, Priyanka, Rahul, Kofi, Zanele, Thabo, Nomvula, Ethan, "
    "Hannah, Samuel, Abigail, Caleb, Naomi, Isaac, Maya, Owen, Nora, Ezra, Iris"
)
LAST_NAMES = _listed(
    "Smith, Johnson, Williams, Brown, Jones, Garcia, Miller, Davis, Rodriguez, Martinez, "
    "Wilson, Anderson, Thomas, Taylor, Moore, Jackson, Martin, Lee, Thompson, White, Harris, "
    "Clark, Lewis, Walker, Hall, Young, Allen, King, Wright, Scott, Green, Baker, Adams, "
    "Nelson, Hill, Campbell, Mitchell, Roberts, Carter, Phillips, Evans, Turner, Parker, "
    "Collins, Edwards, Stewart, Murphy, O'Brien, Kelly, Byrne, Walsh, Müller, Schmidt, "
    "Schneider, Fischer, Weber, Wagner, Becker, Hoffmann, Dubois, Lefebvre, Moreau, Laurent, "
    "Girard, Bernard, Rossi, Russo, Bianchi, Romano, Santos, Silva, Pereira, Costa, Ferreira, "
    "Nguyen, Tran, Pham, Kim, Park, Chen, Wang, Li, Zhang, Liu, Tanaka, Sato, Suzuki, Patel, "
    "Shah, Singh, Kumar, Gupta, Okafor, Mensah, Diallo, Haddad, Khalil, Novak, Kowalski, de "
    "Vries, Jansen, Bakker, Visser, Smit, Meijer, Lindgren, Nilsson, Larsen, Hansen, Jensen, "
    "Berg"
)

SHOP_WORDS = (
    "Harbor", "Maple", "Copper", "Blue Fern", "Northgate", "Willow", "Juniper", "Saffron",
    "Olive Tree", "Red Door", "Little Owl", "Old Town", "Riverside", "Sunset", "Lantern",
    "Fox & Hare", "Bramble", "Ironwood", "Marigold", "Tidewater", "Kettle", "Cobblestone",
    "Greenleaf", "Wildflower", "Stone Mill", "Silver Birch", "Honeycomb", "Driftwood",
    "Cedar", "Lighthouse", "Acorn", "Orchard", "Pebble", "Magpie", "Beacon", "Linden",
    "Canal Street", "Market Hall", "Westbrook", "Hillside", "Crescent", "Nightjar",
    "Golden Crust", "Paper Moon", "Two Rivers", "High Street", "Meadow", "Hearth",
)  # fmt: skip
SHOP_KINDS = (
    "Coffee", "Bakery", "Books", "Deli", "Bistro", "Florist", "Bike Shop", "Records",
    "Wine Bar", "Pharmacy", "Hardware", "Gelato", "Kitchen", "Taproom", "Boutique",
    "Barbers", "Yoga Studio", "Pet Supply", "Noodle House", "Market", "Grocer", "Toy Shop",
    "Optics", "Tea House", "Salon", "Pizzeria", "Butchers", "Cheese Shop", "Gallery",
    "Surf Shop", "Stationers", "Brewing Co.", "Cantina", "Ramen Bar", "Bagels",
)  # fmt: skip
CHAIN_SUFFIXES = ("Group", "Hospitality", "Retail", "Coffee Co.", "Restaurants", "Stores")
PERSONAL_DOMAINS = ("mail.example", "inbox.example", "post.example", "webmail.example")
LOCATIONS = (
    "Main Street", "the Riverside store", "our market stall", "Downtown", "the airport kiosk",
    "the station branch", "our second shop", "the harbour café", "Westfield", "the old town shop",
    "the pop-up", "our food truck",
)  # fmt: skip

TIER_MIX = (("enterprise", 0.06), ("pro", 0.54), ("free", 0.40))
TIER_SIZE = {"enterprise": 22.0, "pro": 6.0, "free": 2.2}
TIER_ACTIVITY = {"enterprise": 1.6, "pro": 1.0, "free": 0.6, "": 0.5}


@dataclass
class OrganizationPlan:
    name: str
    tier: str
    region: Region
    domains: list[str]
    notes: str = ""
    members: list["CustomerPlan"] = field(default_factory=list)
    years: float = 1.0  # how long it has been a customer


@dataclass
class CustomerPlan:
    first: str
    last: str
    email: str
    region: Region
    organization: OrganizationPlan | None
    activity: float
    phone: str = ""
    extra_emails: list[str] = field(default_factory=list)
    social: str = ""
    notes: str = ""

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def region_zone(self) -> ZoneInfo:
        return zone(self.region.zone)


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower().replace("&", "and"))


def _ascii(text: str) -> str:
    table = str.maketrans("äöüéèçñíóáúøå'", "aoueecnioauoa ")
    return "".join(text.lower().translate(table).split())


def plan_organizations(rng: random.Random, count: int) -> list[OrganizationPlan]:
    """Name `count` businesses, each with a tier, a home region and email domains."""
    names: dict[str, None] = {}
    organizations: list[OrganizationPlan] = []
    regions = list(REGIONS)
    weights = [r.weight for r in REGIONS]
    tiers = [t for t, _ in TIER_MIX]
    tier_weights = [w for _, w in TIER_MIX]
    while len(organizations) < count:
        tier = rng.choices(tiers, tier_weights)[0]
        word = rng.choice(SHOP_WORDS)
        if tier == "enterprise":
            name = f"{word} {rng.choice(CHAIN_SUFFIXES)}"
        else:
            name = f"{word} {rng.choice(SHOP_KINDS)}"
        if name in names:
            continue
        names[name] = None
        region = rng.choices(regions, weights)[0]
        domains = [f"{_slug(name)}.example"]
        if rng.random() < 0.08:
            domains.append(f"{_slug(name)}-{region.country.lower()}.example")
        organization = OrganizationPlan(
            name=name, tier=tier, region=region, domains=domains, years=rng.uniform(0.3, 5.0)
        )
        if tier == "enterprise":
            locations = rng.randint(4, 30)
            organization.notes = (
                f"Enterprise account with {locations} locations. Named contact for outages: "
                f"ops@{domains[0]}. Reviewed quarterly with Maya."
            )
        elif rng.random() < 0.08:
            organization.notes = rng.choice(
                (
                    "Seasonal business: closed January to March.",
                    "Prefers phone calls to email.",
                    "Had a rough start with hardware in the first month; be extra patient.",
                    "Owner is happy to beta-test new features.",
                )
            )
        organizations.append(organization)
    return organizations


def _sizes(rng: random.Random, organizations: list[OrganizationPlan], total: int) -> list[int]:
    weights = [TIER_SIZE[o.tier] * rng.lognormvariate(0, 0.5) for o in organizations]
    scale = total / sum(weights)
    sizes = [max(1, round(w * scale)) for w in weights]
    order = sorted(range(len(sizes)), key=lambda i: -sizes[i])
    i = 0
    while sum(sizes) != total:
        index = order[i % len(order)]
        if sum(sizes) > total and sizes[index] > 1:
            sizes[index] -= 1
        elif sum(sizes) < total:
            sizes[index] += 1
        i += 1
    return sizes


def plan_customers(
    rng: random.Random, organizations: list[OrganizationPlan], count: int
) -> list[CustomerPlan]:
    """Staff of the organizations (about nine in ten) plus owners writing from personal mail."""
    in_organizations = min(count, max(len(organizations), round(count * 0.9)))
    sizes = _sizes(rng, organizations, in_organizations) if organizations else []
    taken: set[str] = set()
    phones: set[str] = set()
    handles: set[str] = set()
    customers: list[CustomerPlan] = []

    def address(first: str, last: str, domain: str) -> str:
        f, la = _ascii(first), _ascii(last)
        patterns = (f, f"{f}.{la}", f"{f[0]}.{la}", f"{f}{la[0]}", f"{f}_{la}", f"{f[0]}{la}")
        for candidate in patterns:
            if f"{candidate}@{domain}" not in taken:
                return f"{candidate}@{domain}"
        n = 2
        while f"{f}.{la}{n}@{domain}" in taken:
            n += 1
        return f"{f}.{la}{n}@{domain}"

    def person(organization: OrganizationPlan | None, region: Region) -> CustomerPlan:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        domain = rng.choice(organization.domains) if organization else rng.choice(PERSONAL_DOMAINS)
        email = address(first, last, domain)
        taken.add(email)
        tier = organization.tier if organization else ""
        customer = CustomerPlan(
            first=first,
            last=last,
            email=email,
            region=region,
            organization=organization,
            activity=TIER_ACTIVITY[tier] * rng.lognormvariate(0, 0.8),
        )
        if rng.random() < 0.3:
            number = f"+{region.dialling_code}{rng.randrange(10**8, 10**9)}"
            if number not in phones:
                phones.add(number)
                customer.phone = number
        if organization and rng.random() < 0.05:
            extra = address(first, last, rng.choice(PERSONAL_DOMAINS))
            taken.add(extra)
            customer.extra_emails.append(extra)
        if rng.random() < 0.06:
            handle = f"@{_ascii(first)}{rng.choice(('', '_', '.'))}{_ascii(last)[:6]}"
            if handle not in handles:
                handles.add(handle)
                customer.social = handle
        return customer

    for organization, size in zip(organizations, sizes, strict=True):
        for _ in range(size):
            customer = person(organization, organization.region)
            organization.members.append(customer)
            customers.append(customer)
    regions, weights = list(REGIONS), [r.weight for r in REGIONS]
    while len(customers) < count:
        customers.append(person(None, rng.choices(regions, weights)[0]))
    for customer in rng.sample(customers, k=max(1, len(customers) // 60)):
        customer.notes = rng.choice(
            (
                "Owner of the business; decides on hardware purchases.",
                "Prefers a call back over long emails.",
                "Manages the tills at several sites.",
                "Bookkeeper: ask about invoices, not hardware.",
            )
        )
    return customers
