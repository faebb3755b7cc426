from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from serviceloop import demo


class Command(BaseCommand):
    help = (
        "Load demo data: Tillwise, a point-of-sale company with three support teams, twelve "
        "agents and months of realistic tickets. Deterministic for a seed. Demo agents have "
        "no password; `serviceloop createadmin --username sam.okafor --reset` lets you sign "
        "in as one (it also makes them an admin)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=demo.DEFAULT_SEED)
        parser.add_argument("--tickets", type=int, default=demo.DEFAULT_TICKETS)
        parser.add_argument("--customers", type=int, default=demo.DEFAULT_CUSTOMERS)
        parser.add_argument("--organizations", type=int, default=demo.DEFAULT_ORGANIZATIONS)
        parser.add_argument(
            "--force",
            action="store_true",
            help="Delete demo data loaded earlier (and all tickets and customers) and load it "
            "again. Only works on a database the demo was loaded into.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        for name in ("tickets", "customers", "organizations"):
            if options[name] < 1:
                raise CommandError("--%s must be at least 1." % name)
        if demo.demo_is_loaded():
            if not options["force"]:
                raise CommandError(
                    "Demo data is loaded already. Run `serviceloop demo --force` to delete "
                    "it, with every ticket and customer, and load it again."
                )
            self.stdout.write("Deleting the demo data loaded earlier…")
            demo.delete_demo_data()
        contents = {k: n for k, n in demo.database_contents().items() if n}
        if contents:
            found = ", ".join("%d %s" % (n, name) for name, n in contents.items())
            raise CommandError(
                "This database holds data already (%s); demo data goes only into an empty "
                "database, so it never mixes with real customers. Use a new database." % found
            )
        summary = demo.build_demo(
            seed=options["seed"],
            tickets=options["tickets"],
            customers=options["customers"],
            organizations=options["organizations"],
            progress=options["verbosity"] > 0,
        )
        self.stdout.write(
            "Loaded demo data in %.1f s: %d tickets, %d customers in %d organizations, "
            "%d agents (seed %d)."
            % (
                summary.seconds,
                summary.tickets,
                summary.customers,
                summary.organizations,
                summary.agents,
                options["seed"],
            )
        )
