import pytest

from core.storage import LocalStorage, StorageError


def test_local_storage_round_trip_and_refuses_escaping_keys(tmp_path):
    store = LocalStorage(tmp_path / "store")
    digest = store.put("a/b/c.bin", b"\x00hello")
    assert len(digest) == 64
    assert store.get("a/b/c.bin") == b"\x00hello"
    assert store.exists("a/b/c.bin")
    for bad in ("../x", "/etc/passwd", "a/../../x", ""):
        with pytest.raises(StorageError):
            store.put(bad, b"x")
    store.delete("a/b/c.bin")
    assert not store.exists("a/b/c.bin")
    with pytest.raises(FileNotFoundError):
        store.get("a/b/c.bin")
    assert store.health()["status"] == "ok"
