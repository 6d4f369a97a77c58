import uuid

from core.ids import uuid7


def test_version_and_variant():
    value = uuid7()
    assert value.version == 7
    assert value.variant == uuid.RFC_4122


def test_the_time_leads_so_later_ids_sort_after():
    ids = [uuid7(now_ns=ms * 1_000_000) for ms in (1_700_000_000_000, 1_700_000_000_001, 1_800_000_000_000)]
    assert ids == sorted(ids)
    assert ids[0].int >> 80 == 1_700_000_000_000


def test_ids_in_one_millisecond_differ():
    assert len({uuid7(now_ns=5_000_000) for _ in range(1000)}) == 1000
