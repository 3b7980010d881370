"""Issue 17's second pass at the restore: the fast reader is taken for a file as write_file
writes it and left for anything orjson would read otherwise than the careful reader."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.contract import jsonio
from sandbox.documents import snapshot
from sandbox.settings import Settings
from sandbox.web.app import create_app


def test_a_written_state_takes_the_fast_reader():
    app = create_app(Settings())
    raw = jsonio.dumps(snapshot.dump(app.sandbox.store, app.sandbox.seed, columns=True))
    assert snapshot._as_written(raw) == jsonio.loads(raw)


@pytest.mark.parametrize("raw", [
    b"1.5", b"[1.5]", b'{"a":{"b":[1,{"c":2e3}]}}', b"[18446744073709551616]", b'{"a":1,"a":2}', b'{"a": 1}',
    b"[" * 65 + b"]" * 65, b'{"a":' * 65 + b"1" + b"}" * 65, b'{"a":"\\u00e9"}',
])
def test_what_orjson_reads_otherwise_takes_the_careful_reader(raw: bytes):
    assert snapshot._as_written(raw) is None


@pytest.mark.parametrize("raw", [b"1", b'"x"', b"[" * 64 + b"]" * 64, b'{"a":' * 63 + b"[]" + b"}" * 63, b'{"a":["x",1,true,null,{}]}'])
def test_what_both_read_alike_takes_the_fast_reader(raw: bytes):
    assert snapshot._as_written(raw) == jsonio.loads(raw)


_UNWALKED = """
import gc
from sandbox.documents import snapshot

gc.collect()
assert gc.get_freeze_count() == 0
with snapshot._no_collections():
    made = [[n] for n in range(1000)]
assert gc.isenabled() and gc.get_freeze_count() == 0 and gc.get_count()[0] < 700
gc.freeze()
frozen = gc.get_freeze_count()
with snapshot._no_collections():
    made += [[n] for n in range(1000)]
assert gc.get_freeze_count() == frozen  # the server's frozen objects stay frozen
"""


def test_objects_made_while_reading_are_kept_unwalked_and_nothing_frozen_is_let_go():
    """In a fresh interpreter: the collector's counts are the whole process's, and in the test
    session a server thread (which freezes what it holds at start) or another test's garbage
    would move them."""
    done = subprocess.run([sys.executable, "-c", _UNWALKED], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(Path(snapshot.__file__).parents[2])})
    assert done.returncode == 0, done.stderr
