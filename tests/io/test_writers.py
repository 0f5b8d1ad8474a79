"""Atomic writers: results appear whole, with the usual file permissions."""

import os
import stat

from radscribe.io.writers import atomic_write_text


def test_atomic_write_gives_umask_permissions_not_0600(tmp_path):
    target = tmp_path / "result.json"
    atomic_write_text(target, "{}")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    assert target.read_text() == "{}"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
