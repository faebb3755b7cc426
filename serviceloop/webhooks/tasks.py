from django_tasks import task

from serviceloop.webhooks import services


@task()
def send_webhook(delivery_id: int) -> str:
    return services.attempt_delivery(delivery_id=delivery_id)
