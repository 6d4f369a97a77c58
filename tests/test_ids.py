import copy
import pickle
import uuid

from core.ids import uuid7, uuid7_many


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


def test_many_at_once_are_distinct_version_7_ids_of_now():
    before = uuid7()
    ids = uuid7_many(500)
    assert len(set(ids)) == 500 and {i.version for i in ids} == {7}
    assert {i.variant for i in ids} == {uuid.RFC_4122}
    assert all(i.int >> 80 >= before.int >> 80 for i in ids) and uuid7_many(0) == []


def test_an_id_is_a_whole_uuid():
    """Made without UUID(int=...)'s checks, still a UUID like any other: equal, hashed, printed, pickled alike."""
    value = uuid7()
    same = uuid.UUID(str(value))
    assert value == same and hash(value) == hash(same) and value.hex == same.hex and value.bytes == same.bytes
    assert pickle.loads(pickle.dumps(value)) == value  # noqa: S301 (our own bytes)
    assert copy.deepcopy(value) == value
    assert value.is_safe == uuid.SafeUUID.unknown
