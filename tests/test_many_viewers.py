"""Five dashboard-like viewer processes poll one SQLite store while the real ingest
process writes a simulated 60 Hz, 22-car race received over UDP: no lock errors, no
other errors, every viewer sees the race move on, and ingest keeps every datagram.

The bounded CI version of benchmarks/many_viewers.py (20 viewers for 5 minutes, which
prints poll p95 and ingest lag).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "many_viewers.py"
VIEWERS = 5
DURATION_S = 15.0


def _viewers_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("many_viewers", BENCHMARK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("many_viewers", module)
    spec.loader.exec_module(module)
    return module


many_viewers = _viewers_module()


def test_five_viewers_poll_without_lock_errors_while_ingest_writes(
    tmp_path: Path,
) -> None:
    result = many_viewers.run(VIEWERS, DURATION_S, tmp_path)
    assert len(result.viewers) == VIEWERS
    assert result.lock_errors == 0
    assert [error for v in result.viewers for error in v.errors] == []
    # ~220 datagrams/s for 15 s, all of them ingested (nothing dropped or bad).
    assert result.sent > 2_000
    assert result.packets_total == result.sent
    assert not any(result.bad_by_reason.values()), result.bad_by_reason
    for viewer in result.viewers:
        # Polled at the dashboard's pace (0.5 s): at least half the polls happened
        # on a loaded box, and the tower's frame moved on between them.
        assert len(viewer.poll_ms) >= DURATION_S / many_viewers.LIVE_POLL_S / 2
        assert viewer.first_frame is not None and viewer.last_frame is not None
        assert viewer.last_frame > viewer.first_frame
        # The followed car's samples arrived incrementally: about 60 per second
        # once the viewer found the session, never the whole lap again each poll.
        assert 0 < viewer.samples <= (DURATION_S + 2) * many_viewers.RATE_HZ
