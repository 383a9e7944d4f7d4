"""The short form of the crash-safety kill loop (tests/crash/kill_loop.py): 20 cycles of a concurrent
workload under every SSE mode, in an unversioned and a versioned bucket (tests/crash/versioned.py),
SIGKILL at a random moment, restart, verify. The long form is
`python3 tests/crash/kill_loop.py --cycles 1000` (see README, "Reliability")."""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

from conftest import sealstore_bin

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "crash"))
import kill_loop  # noqa: E402


def test_kill_loop_20_cycles(tmp_path):
    seed = int(os.environ.get("SEALSTORE_KILL_SEED", random.randrange(1 << 32)))
    totals = kill_loop.run(cycles=20, binary=sealstore_bin(), seed=seed, workers=4, keys=6,
                           min_run=0.2, max_run=0.8, root=tmp_path, quiet=True)
    print(totals)
    assert totals["violations"] == 0, f"seed {seed}: {totals.get('error')} (data dir {totals.get('kept')})"
    assert totals["cycles"] == 20
    # The workload really ran: operations were acknowledged between the kills.
    assert totals["ops"] > 100, totals
    assert totals["versioned_ops"] > 30, totals


def test_kill_loop_detects_lost_writes(tmp_path):
    """The checker can fail: a server that forgets everything on restart (`--memory` in place of the
    data dir) must be caught on the first cycle."""
    wrapper = tmp_path / "forgetful-sealstore"
    wrapper.write_text(
        "#!/bin/sh\n"
        "# drop --data-dir DIR, keep everything in memory\n"
        "args=''\n"
        "skip=0\n"
        "for a in \"$@\"; do\n"
        "  if [ $skip = 1 ]; then skip=0; continue; fi\n"
        "  if [ \"$a\" = --data-dir ]; then skip=1; continue; fi\n"
        "  args=\"$args $a\"\n"
        "done\n"
        f"exec {sealstore_bin()} $args --memory\n")
    wrapper.chmod(0o755)
    totals = kill_loop.run(cycles=3, binary=wrapper, seed=5, workers=2, keys=4,
                           min_run=0.5, max_run=0.6, root=tmp_path, quiet=True)
    assert totals["violations"] == 1, totals
    assert "cycle 1:" in totals["error"], totals
