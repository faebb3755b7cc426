from collections.abc import Iterator

import pytest

from tests.background import exclusive_task_queue


@pytest.fixture
def task_queue() -> Iterator[None]:
    """The task queue, empty and this test's alone while it runs."""
    with exclusive_task_queue():
        yield
