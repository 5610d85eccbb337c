import factory
from allauth.account.models import EmailAddress

from community.models import User

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")

    @factory.post_generation
    def password(user, create, extracted, **kwargs):  # noqa: N805 (factory_boy hook)
        user.set_password(extracted or PASSWORD)
        if create:
            user.save(update_fields=["password"])
            EmailAddress.objects.create(
                user=user, email=user.email, verified=True, primary=True
            )

    @factory.post_generation
    def credits(user, create, extracted, **kwargs):  # noqa: N805 (factory_boy hook)
        """Members have credits to run agents with: 1000 unless told
        (``UserFactory(credits=0)`` for an empty account)."""
        amount = 1000 if extracted is None else extracted
        if create and amount:
            from billing.models import MILLI, EntryKind
            from billing.services import credit_add

            credit_add(
                user=user,
                amount=int(amount * MILLI),
                kind=EntryKind.PURCHASE,
                key=f"test-credits:{user.pk}",
            )
