"""What demo customers and agents write: support conversations that read like real ones.

A scenario is one kind of request (a late order, a double charge, a reader that drops its
connection) with the lines each side says at each turn. Placeholders such as {order} and
{device} are filled per ticket, and greetings and sign-offs are added per channel, so the
same scenario reads differently from one ticket to the next.
"""

import random
from dataclasses import dataclass, field

from serviceloop.demo.people import BILLING, CUSTOMER_SUPPORT, TECHNICAL_SUPPORT


@dataclass(frozen=True)
class Scenario:
    key: str
    team: str
    type: str
    weight: float
    tags: tuple[str, ...]
    subjects: tuple[str, ...]
    opening: tuple[str, ...]
    # The agent's answer that solves it.
    answer: tuple[str, ...]
    # The agent needs something first; the customer sends it.
    ask: tuple[str, ...] = ()
    details: tuple[str, ...] = ()
    # A wait on someone else (warehouse, engineering): the agent's update, then a note.
    wait_status: str = ""
    wait: tuple[str, ...] = ()
    wait_notes: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    # "It is still happening" after the solve, and the second answer.
    reopen: tuple[str, ...] = ()
    reanswer: tuple[str, ...] = ()
    social: tuple[str, ...] = ()
    # Custom fields the ticket carries: order_number, plan, product.
    fields: tuple[str, ...] = ()
    # low, normal, high, urgent
    priority: tuple[float, float, float, float] = (0.15, 0.65, 0.17, 0.03)
    # Tags an agent adds when it is solved.
    solve_tags: tuple[str, ...] = ()
    one_touch: float = 0.4
    enterprise_only: bool = False
    extra: dict[str, str] = field(default_factory=dict)


ORDERS = (
    Scenario(
        key="order_where",
        team=CUSTOMER_SUPPORT,
        type="question",
        weight=9,
        tags=("order", "shipping"),
        fields=("order_number",),
        subjects=(
            "Where is my order?",
            "Order {order} not arrived yet",
            "Tracking hasn't updated in {days} days",
            "Still waiting for our {device}",
        ),
        opening=(
            "I ordered a {device} on the {order_date} (order {order}) and it still hasn't "
            'arrived. The tracking page has said "label created" for {days} days. We open our '
            "{location} location next week and really need it before then.",
            "Could you check on order {order}? It was supposed to be delivered yesterday but "
            'nothing has shown up and the courier\'s site just says "in transit".',
            "Hi, any idea when order {order} will ship? I paid for express delivery.",
        ),
        ask=(
            "I'm sorry about the wait. I can't find order {order} under this email address: "
            "could you send me the order confirmation, or the email address you ordered with?",
        ),
        details=(
            "Sorry, my colleague placed it from {staff_email}. The order number on the "
            "confirmation is {order}.",
            "Here's the confirmation - it's {order}, placed by {staff} on our account.",
        ),
        wait_status="Waiting on warehouse",
        wait=(
            "Thanks for your patience. The tracking hasn't moved since the label was printed, "
            "so I've asked our warehouse team to check whether the parcel actually left. "
            "I'll update you as soon as I hear back, usually within one working day.",
            "I've raised this with our warehouse so they can trace the parcel with the "
            "courier. I'll be back in touch as soon as I have an answer.",
        ),
        wait_notes=(
            "Warehouse: parcel was missed at the evening collection; rebooked for tomorrow "
            "with express upgrade at our cost.",
            "Warehouse confirmed the parcel is at the courier's depot, delayed by a sorting "
            "backlog. New ETA in 2 days.",
            "Warehouse says the label was printed but the item was out of stock. Restocked "
            "this morning, shipping today.",
        ),
        answer=(
            "Good news: your {device} is on its way. The new tracking number is {tracking} "
            "and the courier expects to deliver within two working days. I've refunded the "
            "express shipping fee as the parcel went out late.",
            "I've checked with the courier: order {order} is out for delivery today. You "
            "can follow it with tracking number {tracking}.",
            "Order {order} left our warehouse this morning with tracking number {tracking}. "
            "Sorry it took longer than promised.",
        ),
        reopen=(
            "The tracking now says delivered but there's nothing here. Nobody at {location} "
            "signed for anything.",
        ),
        reanswer=(
            "That's not good, I'm sorry. I've opened a claim with the courier and sent a "
            "replacement by express today (tracking {tracking2}). If the first parcel turns "
            "up, just refuse it or send it back with the enclosed label.",
        ),
        social=(
            "{handle} ordered a card reader over a week ago and still nothing. Tracking "
            "hasn't moved. Anyone home?",
            "Hey {handle} where's my order? {order}, supposed to arrive yesterday",
        ),
        one_touch=0.45,
        solve_tags=("delayed-shipment",),
    ),
    Scenario(
        key="order_damaged",
        team=CUSTOMER_SUPPORT,
        type="task",
        weight=4,
        tags=("order", "damaged", "replacement"),
        fields=("order_number", "product"),
        subjects=(
            "{device} arrived damaged",
            "Broken {device} in delivery",
            "Damaged item in order {order}",
        ),
        opening=(
            "Our {device} arrived this morning and the box was crushed. The screen is cracked "
            "and it won't switch on. Order {order}. What do we do now?",
            "We unpacked the {device} from order {order} and the casing is split down one "
            "side. It powers on but the card slot is bent. Can we get a replacement?",
        ),
        ask=(
            "I'm sorry it arrived like that. Could you send a photo or two of the damage and "
            "of the outer box? That's all I need to send a replacement straight away.",
        ),
        details=(
            "Photos attached - you can see the dent in the corner of the box.",
            "Here you go. The box was already open when the driver handed it over.",
        ),
        notes=(
            "Third damaged delivery from this courier this week; flagged to logistics.",
            "Photos show transit damage, not misuse. Replacement approved.",
        ),
        wait_status="Waiting on warehouse",
        wait=(
            "Thanks for the photos. I've asked our warehouse to send a replacement "
            "{device} and I'll share the tracking number as soon as it's packed.",
        ),
        wait_notes=("Warehouse: replacement packed, ships with today's collection.",),
        answer=(
            "A replacement {device} is on its way with tracking number {tracking}. You'll "
            "find a prepaid return label in the box: please use it to send the damaged one "
            "back within 30 days. No need to wait for the replacement to arrive first.",
        ),
        social=(
            "{handle} our new {device} arrived smashed to bits. Box looked like it had been "
            "run over. Now what?",
        ),
        one_touch=0.15,
        priority=(0.08, 0.65, 0.24, 0.03),
        solve_tags=("replacement-sent",),
    ),
    Scenario(
        key="order_wrong_item",
        team=CUSTOMER_SUPPORT,
        type="task",
        weight=2.5,
        tags=("order", "wrong-item"),
        fields=("order_number",),
        subjects=("Wrong item received", "Received a {device} instead of what we ordered"),
        opening=(
            "We ordered two Tillwise Printer P1s (order {order}) but the box contained a "
            "{device}. Can you swap it?",
            "Opened our delivery today and it's the wrong thing - we got a {device} and "
            "we never ordered one. Order number {order}.",
        ),
        answer=(
            "Sorry for the mix-up! The right items are on their way (tracking {tracking}). "
            "I've emailed you a prepaid label for the {device}; just drop it at any post "
            "office within 30 days.",
        ),
        wait_status="Waiting on warehouse",
        wait=(
            "Thanks for letting us know. I've asked the warehouse to check what was picked "
            "for {order} and to send the correct items.",
        ),
        wait_notes=("Warehouse: picking error, shelves B14/B15 mislabelled. Fixed.",),
        one_touch=0.5,
    ),
    Scenario(
        key="order_return",
        team=CUSTOMER_SUPPORT,
        type="task",
        weight=3,
        tags=("order", "return"),
        fields=("order_number", "product"),
        subjects=("Return a {device}", "Returning part of order {order}", "How do I return?"),
        opening=(
            "We bought one {device} too many. Can we send it back for a refund? It's unopened. "
            "Order {order}.",
            "We're closing {location} and don't need the {device} anymore. It's only three "
            "weeks old. What's the return process?",
        ),
        ask=("Happy to help. Is the {device} unopened, or has it been set up already?",),
        details=(
            "Still sealed in the box.",
            "We used it for a couple of days, but it's in perfect condition.",
        ),
        answer=(
            "I've emailed you a prepaid return label for the {device}. Once it's back in our "
            "warehouse (usually 3-5 days after you drop it off) the refund of {price} goes "
            "back to the card you paid with.",
        ),
        one_touch=0.55,
        priority=(0.35, 0.6, 0.05, 0.0),
        solve_tags=("return-label-sent",),
    ),
    Scenario(
        key="order_address",
        team=CUSTOMER_SUPPORT,
        type="task",
        weight=2,
        tags=("order", "address-change"),
        fields=("order_number",),
        subjects=("Change delivery address for {order}", "Wrong shipping address!"),
        opening=(
            "I just noticed the delivery address on order {order} is our old shop. Please "
            "send it to {location} instead - it's urgent, the old place is empty.",
            "Can you change the address on order {order} before it ships? We moved last month "
            "and I forgot to update it.",
        ),
        answer=(
            "Done: order {order} hasn't left the warehouse yet, so I've changed the delivery "
            "address. You'll get a new shipping confirmation when it goes out.",
            "I caught it just in time: the courier has rerouted the parcel to the new address. "
            "It may arrive a day later than first planned.",
        ),
        one_touch=0.9,
        priority=(0.0, 0.4, 0.5, 0.1),
    ),
)

BILLING_SCENARIOS = (
    Scenario(
        key="billing_double_charge",
        team=BILLING,
        type="question",
        weight=4,
        tags=("billing", "double-charge"),
        fields=("plan",),
        subjects=(
            "Charged twice this month",
            "Double charge on our card",
            "Why two payments of {amount}?",
        ),
        opening=(
            "Our bank statement shows two charges of {amount} from Tillwise on the same day. "
            "We're only on one {plan} plan. Please refund the duplicate.",
            "Hi, we've been billed twice for {plan_month}. Card ending {last4}. Can you look "
            "into it?",
        ),
        notes=(
            "Checked the payment log: the first charge failed at the bank but was captured "
            "later, then the retry succeeded too. Genuine duplicate.",
            "The second charge is a pre-authorisation from the card update on the same day; "
            "it drops off by itself within 7 days.",
        ),
        answer=(
            "You're right, and I'm sorry: a retry after a failed payment went through twice. "
            "I've refunded {amount} to the card ending {last4}; it usually shows up within "
            "5-10 working days depending on your bank.",
            "I've looked into this: the second amount is a temporary hold from when the card "
            "was updated, not a charge. Your bank will release it within 7 days. If it's "
            "still there after that, reply here and I'll chase it.",
        ),
        social=("{handle} why have you charged my card twice this month?? Need this sorted.",),
        one_touch=0.8,
        priority=(0.02, 0.65, 0.3, 0.03),
        solve_tags=("refund-issued",),
    ),
    Scenario(
        key="billing_invoice",
        team=BILLING,
        type="task",
        weight=4,
        tags=("billing", "invoice"),
        fields=("plan",),
        subjects=(
            "Invoice with our VAT number",
            "Need invoices for the last quarter",
            "Company name wrong on invoice {invoice}",
        ),
        opening=(
            "Our accountant needs the invoices to show our VAT number. Can you reissue "
            "invoice {invoice} with the company name {org} and our VAT ID?",
            "Could you send me all invoices for the last three months as PDFs? Our "
            "bookkeeper can't find the download in Back Office.",
        ),
        ask=("Of course. Which VAT number should go on the invoice?",),
        details=("It's {vat}. Thanks!", "VAT ID is {vat}, company name {org}."),
        answer=(
            "I've reissued invoice {invoice} with your VAT number and company name; the new "
            "PDF is attached. You can also add the VAT ID under Back Office > Settings > "
            "Billing so future invoices include it automatically.",
            "Attached are your invoices for the last quarter. For future reference, they're "
            "under Back Office > Settings > Billing > Invoice history.",
        ),
        one_touch=0.5,
        priority=(0.5, 0.48, 0.02, 0.0),
    ),
    Scenario(
        key="billing_change_plan",
        team=BILLING,
        type="task",
        weight=3,
        tags=("billing", "plan-change"),
        fields=("plan",),
        subjects=("Upgrade to {new_plan}", "Switch plan to {new_plan}", "Change our plan"),
        opening=(
            "We'd like to move from {plan} to {new_plan} from next month. Do we lose any "
            "reports if we switch?",
            "Please change our plan to {new_plan}. We're opening a second location and need "
            "the multi-site features.",
        ),
        answer=(
            "All set: your account moves to {new_plan} at the start of your next billing "
            "period. Nothing is lost - your reports and history stay exactly as they are.",
            "I've switched you to {new_plan} today and prorated this month's charge, so "
            "you'll see a small adjustment on your next invoice.",
        ),
        one_touch=0.85,
        priority=(0.3, 0.68, 0.02, 0.0),
    ),
    Scenario(
        key="billing_cancel",
        team=BILLING,
        type="task",
        weight=2,
        tags=("billing", "cancellation"),
        fields=("plan",),
        subjects=("Cancel our subscription", "Please close our account"),
        opening=(
            "We're closing the shop at the end of the month, so please cancel our {plan} "
            "subscription. What happens to our sales data?",
            "I'd like to cancel. The system works but it's too expensive for a shop our size.",
        ),
        ask=(
            "I'm sorry to see you go. Before I cancel: would the Free plan work for you? It "
            "keeps your history and the card reader working, without the monthly fee.",
        ),
        details=(
            "Oh, I didn't know that. Yes, please move us to Free instead.",
            "No thanks, we're closing for good. Please cancel.",
        ),
        answer=(
            "Done. Your subscription ends on the last day of this billing period and you "
            "won't be charged again. You can export all your sales data from Back Office > "
            "Reports > Export at any time in the next 90 days.",
        ),
        one_touch=0.3,
        priority=(0.3, 0.65, 0.05, 0.0),
    ),
    Scenario(
        key="billing_card_declined",
        team=BILLING,
        type="question",
        weight=2.5,
        tags=("billing", "payment-failed"),
        fields=("plan",),
        subjects=("Payment failed", "Card declined for subscription", "Account says overdue"),
        opening=(
            "Back Office says our last payment failed and the account will be limited in "
            "{days} days. The card is fine - we used it yesterday. What's going on?",
            "We got an email that our card ending {last4} was declined. I've updated the "
            "card, but the banner is still there.",
        ),
        answer=(
            'The bank declined the charge with "do not honour", which usually means a fraud '
            "check on their side. I've retried it now with your new card and it went through, "
            "so the warning is gone. Nothing was limited.",
            "Thanks for updating the card. The banner clears at the next retry, which I've "
            "just triggered manually - you're all paid up.",
        ),
        one_touch=0.85,
        priority=(0.08, 0.65, 0.24, 0.03),
    ),
    Scenario(
        key="payouts_missing",
        team=BILLING,
        type="question",
        weight=3,
        tags=("payments", "payouts"),
        subjects=(
            "Haven't received our payout",
            "Payout for {weekday} missing",
            "Where is our money?",
        ),
        opening=(
            "Yesterday's card takings ({payout}) haven't reached our bank account. Normally "
            "they arrive the next morning. Can you check?",
            'Our payout from {weekday} is missing. Back Office shows it as "paid" but our '
            "bank says nothing came in.",
        ),
        notes=(
            "Payout went out on time; the bank holds first payouts to a new account for a "
            "day. Nothing wrong on our side.",
            "Payout was held for a routine verification after a large refund. Released.",
        ),
        answer=(
            "I've traced the payout: {payout} left us on {weekday} with reference {invoice}. "
            "Your bank should credit it today; if not, give them that reference and they can "
            "find it.",
            "Your payout was held for a routine check after an unusually large refund. I've "
            "released it and it will reach your account on the next working day.",
        ),
        social=(
            "{handle} yesterday's payout still not in our account. We have suppliers to pay. "
            "Please check.",
        ),
        one_touch=0.75,
        priority=(0.0, 0.55, 0.38, 0.07),
    ),
)

LOGIN = (
    Scenario(
        key="login_reset",
        team=CUSTOMER_SUPPORT,
        type="incident",
        weight=5,
        tags=("login", "password-reset"),
        subjects=(
            "Password reset email never arrives",
            "Can't log in to Back Office",
            "Locked out of my account",
        ),
        opening=(
            "I've requested a password reset three times and no email arrives. Checked "
            "spam too. I need to get into Back Office to do payroll today.",
            "I can't sign in anymore - it says my password is wrong, and the reset link "
            "never comes.",
        ),
        ask=(
            "Sorry about that. Which email address are you using to sign in? It may be a "
            "different one from the one you're writing from.",
        ),
        details=(
            "Ah - it might be {alt_email}. I'd forgotten about that one.",
            "The same one I'm writing from.",
        ),
        answer=(
            "Found it: reset emails to your address were bouncing because the mailbox was "
            "full at some point, so our system stopped sending to it. I've cleared the block "
            "and sent a fresh reset link - it should be with you in a minute.",
            "Your account is registered to a different address, which is why the resets went "
            "nowhere. I've changed the login email to this one and sent you a reset link.",
        ),
        reopen=("The new link says it has expired when I click it.",),
        reanswer=(
            "Links expire after 30 minutes, and some email scanners open them before you do. "
            "I've sent another one; please use it straight away, ideally in a private window.",
        ),
        social=(
            "{handle} password reset emails just aren't arriving. Can't get into my back "
            "office. Help?",
        ),
        one_touch=0.45,
        priority=(0.08, 0.65, 0.24, 0.03),
    ),
    Scenario(
        key="login_2fa",
        team=CUSTOMER_SUPPORT,
        type="question",
        weight=2.5,
        tags=("login", "2fa"),
        subjects=("Lost phone with my login codes", "Two-factor code not working"),
        opening=(
            "My phone was stolen at the weekend and the authenticator app was on it. How do "
            "I get back into my account?",
            "The six-digit code from the authenticator app is always rejected. The time on "
            "the phone is correct.",
        ),
        ask=(
            "I can help with that. For security I need to confirm it's you: please reply with "
            "the last four digits of the card you pay your subscription with, and the date of "
            "your most recent invoice.",
        ),
        details=("Card ends {last4}, last invoice was on the 1st of this month.",),
        notes=("Identity verified against billing details. 2FA reset done.",),
        answer=(
            "Thanks, that matches. I've reset two-factor authentication on your account; the "
            "next time you sign in you'll be asked to set it up again on your new phone.",
        ),
        one_touch=0.1,
        priority=(0.02, 0.65, 0.3, 0.03),
    ),
    Scenario(
        key="login_staff",
        team=CUSTOMER_SUPPORT,
        type="question",
        weight=2.5,
        tags=("login", "staff-account"),
        subjects=("Staff member can't log in to the POS", "Staff PIN not working"),
        opening=(
            "{staff} started with us on Monday and her PIN doesn't work on the till. It "
            "works for everyone else.",
            'One of our staff, {staff}, gets "not permitted at this location" when signing '
            "in at {location}.",
        ),
        answer=(
            "Staff PINs only work at the locations they're assigned to. In Back Office, go to "
            "Staff > {staff} > Locations and tick {location}; the till picks it up within a "
            "minute.",
            "New staff need to be activated once by a manager: in Back Office go to Staff, "
            'open {staff} and click "Send invite". After she accepts, the PIN works.',
        ),
        one_touch=0.9,
        priority=(0.2, 0.7, 0.1, 0.0),
    ),
    Scenario(
        key="login_sso",
        team=TECHNICAL_SUPPORT,
        type="incident",
        weight=1.2,
        tags=("login", "sso"),
        subjects=("SSO login fails for our managers", "SAML error when signing in"),
        opening=(
            'Since this morning our area managers get "SAML response not valid" when '
            "signing in with our company login. Nothing changed on our side, as far as I know.",
        ),
        ask=(
            "Could you ask your identity team whether the signing certificate was rotated "
            "recently? If so, please send us the new certificate or metadata URL.",
        ),
        details=(
            "Our IT team says yes, they rotated it yesterday. New metadata is at the usual URL.",
        ),
        answer=(
            "Thanks - I've imported the new certificate from your metadata and sign-in works "
            "again; I tested it with a test account on your tenant. We also turned on "
            "automatic metadata refresh so the next rotation won't interrupt anyone.",
        ),
        one_touch=0.1,
        priority=(0.0, 0.2, 0.6, 0.2),
        enterprise_only=True,
    ),
)

TECHNICAL = (
    Scenario(
        key="bug_reader",
        team=TECHNICAL_SUPPORT,
        type="incident",
        weight=5,
        tags=("hardware", "reader", "bluetooth"),
        fields=("product",),
        subjects=(
            "Card reader keeps disconnecting",
            "Reader M2 drops connection during payments",
            "Card reader not pairing",
        ),
        opening=(
            "Our Reader M2 disconnects from the iPad several times a day, always in the middle "
            "of a payment. We have to restart both to get it back. It started about {days} days "
            "ago.",
            "The card reader won't pair with our new tablet. It shows up in the list, then "
            "fails with error {error}.",
        ),
        ask=(
            "Sorry for the trouble. To narrow it down: which firmware version does the reader "
            "show under Settings > Hardware, and roughly how far is it from the tablet?",
            "Could you send me a diagnostics report? In the app go to Settings > Help > Send "
            "diagnostics, and tell me the code it shows.",
        ),
        details=(
            "Firmware {firmware}. The reader is about 3 metres from the tablet, behind the "
            "counter.",
            "Diagnostics code is {diag}. Hope that helps.",
        ),
        wait_status="Escalated to engineering",
        wait=(
            "Thanks, that's helpful. I've passed the diagnostics to our engineers, who are "
            "checking the connection logs. I'll come back to you as soon as they have findings.",
        ),
        wait_notes=(
            "Logs show the tablet's Wi-Fi and Bluetooth fighting on 2.4 GHz; moving the "
            "router channel should fix it. Suggest channel 1 or 11.",
            "Reader reboots on low battery during NFC reads - battery at 4% of design "
            "capacity. Hardware fault, replace under warranty.",
        ),
        answer=(
            "Our engineers found the cause: the tablet's Wi-Fi and Bluetooth interfere with "
            "each other on your router's channel. Switching the router to channel 1 or 11 "
            "should stop the drops; if you can't, keeping the reader within a metre of the "
            "tablet helps too.",
            "The diagnostics show the reader's battery has worn out, which makes it restart "
            "during contactless payments. It's under warranty, so a replacement is on its way "
            "(tracking {tracking}).",
            "Please update the reader to the latest firmware (Settings > Hardware > Update). "
            "That release fixes exactly this disconnect during contactless payments.",
        ),
        reopen=("It happened again twice this morning, even after the update.",),
        reanswer=(
            "Thanks for letting me know. In that case I'd rather not keep you troubleshooting: "
            "I've sent a replacement reader by express (tracking {tracking2}).",
        ),
        social=("{handle} card reader dropped out mid-payment AGAIN. Queue out the door.",),
        one_touch=0.2,
        priority=(0.05, 0.62, 0.27, 0.06),
    ),
    Scenario(
        key="bug_export",
        team=TECHNICAL_SUPPORT,
        type="incident",
        weight=3,
        tags=("bug", "reports", "export"),
        fields=("product",),
        subjects=(
            "Sales report export is empty",
            "CSV export has wrong totals",
            "Report download fails",
        ),
        opening=(
            "When I export last month's sales report as CSV the file only has the header row. "
            "The report itself shows data on screen.",
            "The CSV export totals don't match the dashboard: the export is {amount} lower "
            "for {weekday}. Refunds seem to be counted twice.",
        ),
        ask=(
            "Thanks for reporting this. Which date range and location filter did you use, and "
            "which browser? I'll try to reproduce it with the same settings.",
        ),
        details=(
            "All locations, 1st to 31st of last month, in {browser}.",
            "Just {location}, last week, {browser}.",
        ),
        wait_status="Escalated to engineering",
        wait=(
            "I could reproduce it with the same filters, so I've filed it with our engineers. "
            "I'll update you as soon as there's a fix.",
        ),
        wait_notes=(
            "Repro: exports spanning a DST change drop the last day. Fix merged, ships Thursday.",
            "Refunds on split payments are subtracted twice in the CSV only. Fix is in review.",
        ),
        answer=(
            "A fix for the export went out this morning. Could you try the same export again? "
            "It should include all rows now.",
            "Our engineers fixed the totals in the CSV export (refunds on split payments were "
            "counted twice). Exports made from now on are correct, including for past dates.",
        ),
        notes=("Same as the report ticket from last week; linking the fix notes here.",),
        one_touch=0.15,
        priority=(0.1, 0.6, 0.28, 0.02),
    ),
    Scenario(
        key="bug_printer",
        team=TECHNICAL_SUPPORT,
        type="incident",
        weight=2.5,
        tags=("hardware", "printer"),
        fields=("product",),
        subjects=("Receipts print garbled characters", "Printer P1 not printing receipts"),
        opening=(
            "Our receipt printer prints strange symbols instead of the shop name at the top "
            "of every receipt. The rest is fine.",
            "The Printer P1 stopped printing receipts this morning. The green light is on and "
            "the paper is in correctly.",
        ),
        answer=(
            "The symbols come from special characters in your receipt header that this printer "
            "model can't render. In Back Office > Settings > Receipts, replace the curly "
            "apostrophe in the shop name with a straight one, and it prints correctly.",
            "Please switch the printer off, hold the feed button and switch it on again: that "
            "prints a self-test and resets the connection. Then remove and re-add it under "
            "Settings > Hardware. That brings it back in almost every case.",
        ),
        reopen=("It worked for a day and now it's stopped again.",),
        reanswer=(
            "Since the reset only helps briefly, the printer's network module is probably "
            "failing. I've arranged a replacement (tracking {tracking2}).",
        ),
        social=("{handle} receipt printer printing hieroglyphics at the top of every receipt 🙃",),
        one_touch=0.65,
        priority=(0.08, 0.65, 0.24, 0.03),
    ),
    Scenario(
        key="bug_sync",
        team=TECHNICAL_SUPPORT,
        type="incident",
        weight=2.5,
        tags=("bug", "inventory", "sync"),
        subjects=("Inventory not syncing between locations", "Stock counts wrong after sync"),
        opening=(
            "Stock levels at {location} don't update after sales anymore. The other location "
            "is fine. We've sold out of things the system says we have.",
            "After last night's sync our stock counts are all doubled at {location}.",
        ),
        ask=(
            "Could you tell me roughly when the counts were last right, and whether anything "
            "changed that day (a new device, an import, a price update)?",
        ),
        details=("They were fine until {weekday}. That's the day we imported the new price list.",),
        notes=("Import created duplicate SKUs with trailing spaces. Cleanup script run.",),
        wait_status="Escalated to engineering",
        wait=(
            "Thanks. The import seems to have created duplicate products, so I've asked our "
            "engineers to clean them up safely without touching your sales history.",
        ),
        wait_notes=("Duplicates merged, counts recalculated from the sales ledger.",),
        answer=(
            "The duplicates are merged and stock counts have been recalculated from your sales, "
            "so the numbers at {location} are correct again. For future imports, the template "
            "in Back Office > Products > Import trims spaces automatically.",
        ),
        one_touch=0.1,
        priority=(0.05, 0.62, 0.28, 0.05),
    ),
    Scenario(
        key="bug_app_crash",
        team=TECHNICAL_SUPPORT,
        type="incident",
        weight=2.5,
        tags=("bug", "pos-app"),
        fields=("product",),
        subjects=("POS app crashes when applying a discount", "App closes by itself at checkout"),
        opening=(
            "The app crashes every time we apply a percentage discount to a basket with more "
            "than one item. We're on version {version} on an iPad.",
            "At checkout the app just closes and we lose the basket. It happens maybe once an "
            "hour. Version {version}.",
        ),
        ask=("Which iPad model and iPadOS version are you on?",),
        details=("iPad 9th generation, latest iPadOS.", "iPad Air, not sure of the version."),
        answer=(
            "Thanks - we found it: a rounding bug with percentage discounts on mixed-tax "
            "baskets. Version {next_version} with the fix is in the App Store now; please "
            "update and let me know if it happens again.",
        ),
        reopen=("Updated, but it just crashed again on a discount.",),
        reanswer=(
            "Sorry about that. Our engineers found a second path to the same crash, with "
            "discounts on items sold by weight. Version {next_version}.1 fixes it and is out "
            "today.",
        ),
        notes=("Crash logs match the known discount rounding issue.",),
        social=("{handle} your app crashed three times during lunch rush today. Not great.",),
        one_touch=0.3,
        priority=(0.05, 0.6, 0.3, 0.05),
    ),
    Scenario(
        key="api_webhooks",
        team=TECHNICAL_SUPPORT,
        type="incident",
        weight=1.2,
        tags=("api", "integrations"),
        subjects=("Webhook deliveries failing with 401", "API rate limit errors on order sync"),
        opening=(
            "Our ERP integration stopped receiving order webhooks last night. Our logs show "
            "your calls getting 401 from our endpoint - did the signing secret change?",
            "We're hitting 429 responses syncing orders from {count} locations every 5 minutes. "
            "Is there a way to raise our limit?",
        ),
        answer=(
            "The signing secret didn't change on our side, but your endpoint started requiring "
            "a new header after your deploy yesterday. Deliveries retried automatically once "
            "you rolled back, and none were lost.",
            "Rather than raising the limit, please switch to the bulk orders endpoint: one call "
            "per location per sync instead of one per order. I've also raised your limit "
            "temporarily while you make the change.",
        ),
        notes=("Checked delivery log: 401s from their side since 23:10 UTC.",),
        one_touch=0.6,
        priority=(0.0, 0.3, 0.55, 0.15),
        enterprise_only=True,
    ),
)

HOW_TO = (
    Scenario(
        key="howto_staff",
        team=CUSTOMER_SUPPORT,
        type="question",
        weight=4,
        tags=("how-to", "staff"),
        subjects=("How do I add a new staff member?", "Staff permissions question"),
        opening=(
            "How do I add a new staff member so they can use the till but not see the sales "
            "reports?",
            "Can I stop staff from giving discounts above 10%?",
        ),
        answer=(
            'In Back Office go to Staff > Add staff, and give them the "Cashier" role: '
            "cashiers can sell and refund their own sales, but can't open reports. You can "
            "fine-tune what each role can do under Staff > Roles.",
            'Yes: under Staff > Roles, edit the Cashier role and set "Maximum discount" to '
            "10%. Anything higher then needs a manager's PIN.",
        ),
        one_touch=0.95,
        priority=(0.5, 0.5, 0.0, 0.0),
    ),
    Scenario(
        key="howto_tips",
        team=CUSTOMER_SUPPORT,
        type="question",
        weight=3,
        tags=("how-to", "tipping"),
        subjects=("Setting up tips on the card reader", "Can customers add a tip?"),
        opening=(
            "We'd like customers to be able to add a tip on the card reader. Is that possible?",
            "How do I change the tip percentages shown on the reader? We want 10/15/20.",
        ),
        answer=(
            "Yes! In Back Office go to Settings > Payments > Tipping, switch it on and choose "
            "up to three percentages. The reader shows them after the amount, before the card "
            "is presented. Tips appear separately in your reports.",
        ),
        social=("{handle} quick one: can customers add a tip on the card reader?",),
        one_touch=0.95,
        priority=(0.6, 0.4, 0.0, 0.0),
    ),
    Scenario(
        key="howto_tax",
        team=CUSTOMER_SUPPORT,
        type="question",
        weight=2.5,
        tags=("how-to", "tax"),
        subjects=("Change the tax rate on some items", "Different VAT for takeaway"),
        opening=(
            "Takeaway food has a different tax rate than eat-in for us. Can the till handle that?",
            "The tax rate on our gift items changed. How do I update it for just those items?",
        ),
        answer=(
            "Yes: create a second tax rate under Settings > Taxes, then in Products select "
            'the items and use "Edit in bulk" to assign it. For takeaway, switch on "Order '
            'type" in Settings > Checkout and the till applies the right rate automatically.',
        ),
        one_touch=0.9,
        priority=(0.5, 0.5, 0.0, 0.0),
    ),
)

FEATURES = (
    Scenario(
        key="feature_split_bill",
        team=CUSTOMER_SUPPORT,
        type="question",
        weight=1.5,
        tags=("feature-request", "checkout"),
        subjects=("Feature request: split bills by item", "Can we split a bill?"),
        opening=(
            "It would really help if we could split a bill by item, not just evenly. Big "
            "tables always ask and it takes ages with a calculator.",
        ),
        answer=(
            "Thanks for the suggestion, it's a popular one! Splitting by item is on our "
            "roadmap; I've added your vote and a note about big tables to the request. "
            'Until then, the "Split evenly" option plus a custom amount for the remainder '
            "is the quickest way.",
        ),
        social=("{handle} please please add split-by-item bills. Every big table asks for it.",),
        one_touch=0.95,
        priority=(0.8, 0.2, 0.0, 0.0),
        solve_tags=("roadmap-vote",),
    ),
    Scenario(
        key="feature_gift_cards",
        team=CUSTOMER_SUPPORT,
        type="question",
        weight=1.5,
        tags=("feature-request", "gift-cards"),
        subjects=("Gift cards?", "Feature request: loyalty stamps"),
        opening=(
            "Do you support gift cards? Customers keep asking for them before the holidays.",
            "We'd love a simple loyalty card (buy 9 coffees, 10th free) built into the till.",
        ),
        answer=(
            "Gift cards are available on the Pro plan under Settings > Gift cards, including "
            "printable cards from the receipt printer. Loyalty stamps aren't built in yet; "
            "I've added your vote to that request.",
        ),
        social=("{handle} do you do gift cards? Customers keep asking.",),
        one_touch=0.95,
        priority=(0.8, 0.2, 0.0, 0.0),
        solve_tags=("roadmap-vote",),
    ),
    Scenario(
        key="feature_offline",
        team=CUSTOMER_SUPPORT,
        type="question",
        weight=1,
        tags=("feature-request", "offline-mode"),
        subjects=("Offline mode for the market stall", "Feature request: work without Wi-Fi"),
        opening=(
            "We sell at a farmers' market with terrible signal. Could the app take card "
            "payments offline and send them later?",
        ),
        answer=(
            "Offline card payments are in beta for Pro accounts: payments up to {amount} are "
            "stored on the reader and sent when the connection is back. I've switched the beta "
            "on for your account; the risk of a declined card is yours, so keep the limit low.",
        ),
        one_touch=0.95,
        priority=(0.7, 0.3, 0.0, 0.0),
        solve_tags=("beta",),
    ),
)

COMPLAINTS = (
    Scenario(
        key="complaint_waiting",
        team=CUSTOMER_SUPPORT,
        type="question",
        weight=1.5,
        tags=("complaint",),
        subjects=("Third email and still no answer", "Very disappointed with support"),
        opening=(
            "This is the third time I'm writing about our card reader and nobody has fixed it. "
            "Every day it fails we lose sales. I expect someone to call me today.",
            "Honestly, I'm close to switching providers. Two weeks of problems with the "
            'printer, and every answer is "restart it".',
        ),
        notes=(
            "Long history of hardware issues on this account. Offered a call with Maya.",
            "Checked previous tickets: two replacements already. Escalating to the lead.",
        ),
        answer=(
            "I'm really sorry - you should not have had to write three times. I've gone "
            "through your earlier messages, sent a brand-new {device} by express (tracking "
            "{tracking}) and credited one month of your subscription. Maya, our support lead, "
            "will call you tomorrow morning to make sure everything is working.",
        ),
        social=(
            "{handle} third email about the same broken card reader and still no fix. "
            "Seriously considering switching.",
        ),
        one_touch=0.8,
        priority=(0.0, 0.2, 0.7, 0.1),
        solve_tags=("goodwill-credit",),
    ),
    Scenario(
        key="complaint_charged_after_cancel",
        team=BILLING,
        type="question",
        weight=1,
        tags=("complaint", "billing", "refund"),
        fields=("plan",),
        subjects=("Charged after cancelling!", "Why am I still being billed?"),
        opening=(
            "I cancelled our subscription last month and you charged us {amount} again. "
            "Please refund it and confirm the account is closed.",
        ),
        notes=("Cancellation was requested by email but never processed. Our mistake.",),
        answer=(
            "You're absolutely right, and I apologise: your cancellation request wasn't "
            "processed. I've refunded {amount} in full and closed the subscription; you "
            "won't be charged again.",
        ),
        one_touch=0.9,
        priority=(0.0, 0.3, 0.6, 0.1),
        solve_tags=("refund-issued",),
    ),
)

SCENARIOS = ORDERS + BILLING_SCENARIOS + LOGIN + TECHNICAL + HOW_TO + FEATURES + COMPLAINTS

# A bigger order split into one child ticket per location.
ROLLOUT = Scenario(
    key="rollout",
    team=CUSTOMER_SUPPORT,
    type="task",
    weight=0,
    tags=("order", "rollout"),
    subjects=("Hardware for our new locations", "Rolling out Tillwise to {count} more sites"),
    opening=(
        "We're opening new sites over the next few weeks and need a Reader M2, a Printer P1 "
        "and a stand for each. Can you coordinate the deliveries so everything arrives before "
        "each opening? I'll send the addresses.",
    ),
    answer=(
        "All sites are equipped: every delivery has arrived and been confirmed. Thanks for "
        "coordinating the addresses so quickly - good luck with the openings!",
    ),
    extra={
        "split": "Happy to coordinate this. I've set up one ticket per location so each "
        "delivery can be tracked separately - you'll get updates for each site as they ship.",
        "child_subject": "Hardware for {site}",
        "child_body": "This ticket tracks the hardware for {site}: one Reader M2, one Printer P1 "
        "and a Tablet Stand S1. We'll ship them so they arrive a few days before the opening.",
        "child_wait_note": "Warehouse has the kit reserved; shipping 5 days before opening.",
        "child_answer": "The hardware for {site} has been delivered (tracking {tracking}). "
        "Setup guides are in the box; we're here if anything needs a hand.",
    },
)
SITES = (
    "the Canal Street store", "the station kiosk", "the Westfield unit", "the harbour café",
    "the airport concession", "the university campus shop", "the Old Town branch",
)  # fmt: skip


@dataclass(frozen=True)
class KnownProblem:
    """An outage or bug many customers hit at once: one problem ticket, many incidents."""

    key: str
    title: str
    product: str
    tags: tuple[str, ...]
    reports: tuple[str, ...]
    report_subjects: tuple[str, ...]
    known: tuple[str, ...]
    engineering_notes: tuple[str, ...]
    fixed: str
    hours: tuple[float, float]  # from first report to fix


PROBLEMS = (
    KnownProblem(
        key="firmware",
        title="Reader M2 disconnects after firmware {firmware}",
        product="Tillwise Reader M2",
        tags=("hardware", "reader", "firmware"),
        report_subjects=(
            "Card reader disconnecting since this morning",
            "Reader won't stay connected after update",
            "Reader M2 keeps dropping",
        ),
        reports=(
            "Since the reader updated overnight it disconnects after every second payment. "
            "We've restarted everything. Please help, it's our busiest day.",
            "All three of our readers started dropping the connection today. Is something "
            "going on?",
        ),
        known=(
            "Thanks for reporting this. It's a known issue with the latest reader firmware "
            "and our engineers are working on a fix right now. Until then, restarting the "
            "reader restores the connection for a while. I'll update you here as soon as the "
            "fix is out.",
        ),
        engineering_notes=(
            "Reproduced on two units: the new power-saving mode drops the BLE link after "
            "60 s idle. Rolling back the setting server-side.",
            "Hotfix firmware built; staged rollout to 10% of readers started.",
            "Rollout at 100%. Monitoring disconnect rate: back to baseline.",
        ),
        fixed=(
            "Good news: the fixed firmware has been rolled out to all readers. Your reader "
            "will update itself the next time it's idle for a few minutes; after that the "
            "disconnects stop. Sorry for the disruption."
        ),
        hours=(20, 50),
    ),
    KnownProblem(
        key="daily_report",
        title="Daily sales summary emails not sent",
        product="Back Office",
        tags=("bug", "reports", "email"),
        report_subjects=("No daily sales email today", "Daily summary missing"),
        reports=(
            "We didn't get the daily sales summary email this morning. We use it to reconcile "
            "the tills before opening.",
            "The end-of-day report email hasn't arrived for two days now.",
        ),
        known=(
            "Thanks for letting us know. The daily summary emails are delayed because of a "
            "problem with our email sending, which our engineers are fixing. The reports "
            "themselves are fine and available in Back Office > Reports in the meantime.",
        ),
        engineering_notes=(
            "Scheduler job stuck after the mail provider rotated credentials. Resending "
            "backlog once new credentials are in.",
            "Backlog sent. Added an alert on the job's last-success time.",
        ),
        fixed=(
            "The daily summary emails are working again, and the missed ones have been sent, "
            "so you should find them in your inbox now."
        ),
        hours=(10, 30),
    ),
    KnownProblem(
        key="payout_delay",
        title="Payouts delayed by one day",
        product="Back Office",
        tags=("payments", "payouts"),
        report_subjects=("Payout didn't arrive", "Where is today's payout?"),
        reports=(
            "Yesterday's payout hasn't reached our bank. We need it for supplier payments today.",
            "Our payout is missing this morning. Back Office says it's scheduled.",
        ),
        known=(
            "I'm sorry for the worry. Yesterday's payouts were delayed by a processing issue "
            "at our banking partner. No money is lost; they are being sent today. I'll "
            "confirm here as soon as yours has gone out.",
        ),
        engineering_notes=(
            "Banking partner confirmed the batch file was rejected for a format change; "
            "resubmitted.",
        ),
        fixed=(
            "Your delayed payout has now been sent and should arrive in your account today. "
            "Sorry again for the delay."
        ),
        hours=(8, 20),
    ),
    KnownProblem(
        key="ipad_crash",
        title="POS app {version} crashes on older iPads",
        product="Tillwise POS app (iPad)",
        tags=("bug", "pos-app"),
        report_subjects=("App crashing after update", "POS app closes on start"),
        reports=(
            "The app updated last night and now it crashes as soon as it opens. We're using "
            "the card reader's standalone mode for now.",
            "After the update the app closes whenever we open the product grid.",
        ),
        known=(
            "Thanks, and sorry: version {version} crashes on some older iPads. We've paused "
            "the update and a fixed version is on its way through App Store review. The "
            "reader's standalone mode is the best workaround until then.",
        ),
        engineering_notes=(
            "Crash in the new product grid on devices with 2 GB RAM. Fix submitted to App "
            "Store review, expedited.",
        ),
        fixed=(
            "The fixed version of the app is now in the App Store. Please update; it opens "
            "normally again on your iPad."
        ),
        hours=(24, 60),
    ),
    KnownProblem(
        key="login_codes",
        title="Sign-in codes delayed for some customers",
        product="Back Office",
        tags=("login", "2fa"),
        report_subjects=("Login code never arrives", "Can't sign in, no code"),
        reports=(
            "The sign-in code by text message isn't arriving. I've tried five times.",
            "None of our managers can sign in because the SMS codes don't come through.",
        ),
        known=(
            "Sorry about this: our SMS provider is delivering codes late in some countries. "
            "Signing in with the authenticator app or the email code works in the meantime. "
            "I'll let you know when texts are back to normal.",
        ),
        engineering_notes=("Failed over to the backup SMS provider.",),
        fixed="Text message codes are arriving normally again. Thanks for your patience.",
        hours=(4, 12),
    ),
)

# --- Small talk every ticket can use --------------------------------------------------------

CHASERS = (
    "Any update on this? It's been a while.",
    "Hi again, I sent an email about this earlier and haven't heard back. It's quite urgent.",
    "Just following up on my message from earlier today.",
    "Resending in case my first email got lost.",
)
CHASER_SUBJECTS = ("Re: {subject}", "{subject} (second request)", "URGENT: {subject}")
HOLDING = (
    "Thanks for the details. I'm looking into it now and will get back to you shortly.",
    "Thanks - checking this with the team and I'll update you today.",
)
UPDATE_WHILE_WAITING = (
    "Thanks for checking in. This is still being worked on; I'll update you as soon as "
    "there's news.",
    "No news yet, sorry - it's still with the team and I'm keeping an eye on it.",
)
NUDGES = (
    "Just checking in on this - do you still need help? If I don't hear back, I'll close "
    "the ticket in a few days, but you can always reply to reopen it.",
    "Following up on my last message: were you able to find the details?",
)
GAVE_UP = (
    "I haven't heard back, so I'm marking this as solved for now. If you still need help, "
    "just reply to this email and the ticket reopens.",
)
THANKS = (
    "Perfect, thank you!",
    "Great, that worked. Thanks for the quick help.",
    "Thanks so much!",
    "Brilliant, all sorted. Cheers.",
)
FOLLOW_UP_OPENINGS = (
    "I wrote to you about this a few weeks ago and it's happening again.",
    "Same problem as last time, unfortunately. I thought it was fixed.",
    "Following up on my earlier ticket: the issue has come back.",
)
PHONE_SUMMARY = (
    "Thanks for your call just now. As discussed on the phone:",
    "Good to speak to you earlier. To recap our call:",
    "Here's a summary of our phone call:",
)
TRIAGE_NOTES = {
    BILLING: ("Billing question - moving to Billing.", "This one's for Billing."),
    TECHNICAL_SUPPORT: (
        "Looks like a technical fault, moving to Technical Support.",
        "Needs Technical Support (logs/diagnostics).",
    ),
}
ESCALATE_NOTES = (
    "@priya could you look at the logs for this one?",
    "Escalating to engineering: the details are in the conversation above.",
)
# Engineering answers in its own words, then gives the scenario's answer.
ENGINEER_INTRO = (
    "I'm one of the engineers at Tillwise and looked into this myself.",
    "Engineer here - Ravi asked me to look at your case directly.",
)
VIP_NOTES = (
    "Enterprise account - keep Maya in the loop.",
    "Big account with several sites; prioritising.",
)

# --- Voices: greetings and sign-offs by channel ---------------------------------------------

CUSTOMER_GREETINGS = ("Hi,", "Hello,", "Hi there,", "Hello Tillwise team,", "Dear support,", "")
CUSTOMER_SIGNOFFS = (
    "Thanks,\n{first}",
    "Best,\n{name}\n{org}",
    "Cheers,\n{first}",
    "Kind regards,\n{name}",
    "{first}",
    "Thanks in advance,\n{first} ({org})",
)
AGENT_GREETINGS = ("Hi {first},", "Hello {first},", "Hi {first},", "Dear {first},")


class Slots(dict[str, str]):
    """Placeholder values for one ticket; an unknown placeholder stays as typed."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill(template: str, slots: Slots) -> str:
    return template.format_map(slots)


def customer_says(rng: random.Random, body: str, slots: Slots, *, channel: str, first: bool) -> str:
    """Wrap what a customer writes the way they would on this channel."""
    text = fill(body, slots)
    if channel in ("chat", "social"):
        return text
    parts = []
    greeting = rng.choice(CUSTOMER_GREETINGS) if first else rng.choice(("", "", "Hi again,"))
    if greeting:
        parts.append(greeting)
    parts.append(text)
    if rng.random() < 0.8:
        parts.append(fill(rng.choice(CUSTOMER_SIGNOFFS), slots))
    return "\n\n".join(parts)


def agent_says(rng: random.Random, body: str, slots: Slots, *, channel: str, signature: str) -> str:
    """Wrap an agent's reply: a greeting and their own signature, except in chat."""
    text = fill(body, slots)
    if channel in ("chat", "social"):
        return text
    greeting = fill(rng.choice(AGENT_GREETINGS), slots)
    return f"{greeting}\n\n{text}\n\n{signature}"
