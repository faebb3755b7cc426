import factory

from serviceloop.customers.models import Customer, Identity, Organization


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organization {n}")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer
        # The hook below writes the identity only; the customer needs no second save.
        skip_postgeneration_save = True

    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")

    @factory.post_generation
    def email_identity(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create and self.email:
            Identity.objects.get_or_create(
                kind=Identity.Kind.EMAIL, value=self.email.lower(), defaults={"customer": self}
            )
