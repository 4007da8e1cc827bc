"""False-alarm and detection rates of the shipped monitoring policy on synthetic replays (fresh seeds).

    .venv/bin/python bench/monitor_rates.py [--seeds 30] [--first-seed 1000]

Each replay: a reference of 3,000 held-out predictions and 8 daily windows of 1,000 logged rows (2 sensitive
features, text, half the labels delayed) from tests/monitor_synth.py. 'none' replays the reference's own process;
the drifts start on day 5 (label_shift: P(relief) 0.4 -> 0.6; vocabulary_shift: 30% of words never seen in training;
group_selection_falls: P(relief | sex=F) 0.4 -> 0.2; group_misses_rise: P(truth relief | predicted no_relief, sex=F)
0.15 -> 0.5, so only F's false-negative rate moves and only the delayed labels show it). Seeds from --first-seed on
were not used to choose the policy (tests and tuning used seeds < 300). 'error_rate_parity alerts' counts that
check's alerting window-checks; 'gate last 3 windows' the replays whose last 3 windows hold an alert of an
alert-severity check (what the gate's `monitoring: {last_windows: 3}` blocks on) and 'breach in last 3' those
whose last 3 windows hold a single-window breach (why the gate does not count breaches).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path[:0] = [str(Path(__file__).parents[1]), str(Path(__file__).parents[1] / "tests")]

from audit.record.status import recent_alerts  # noqa: E402
from monitor_synth import log_frame, monitor, write_log  # noqa: E402

EXPECTED = {"label_shift": "prediction_drift", "vocabulary_shift": "oov_rate", "group_selection_falls": "impact_ratio",
            "group_misses_rise": "error_rate_parity"}
START = 4


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--first-seed", type=int, default=1000)
    args = parser.parse_args()
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    print("| replay | seeds | replays with a finding | window-checks with a finding | detected | mean delay (windows) "
          "| error_rate_parity alerts | gate last 3 windows | breach in last 3 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for drift in ("none", *EXPECTED):
        replays_found = checks_found = checks_total = detected = parity = parity_total = gated = breached = 0
        delays = []
        for seed in seeds:
            with tempfile.TemporaryDirectory() as tmp:
                log = write_log(log_frame(seed, drift=drift, start=START), Path(tmp) / "log.parquet")
                _, section = monitor(Path(tmp), [log], seed)
            judged = [c for w in section.windows for c in w.checks if c.status != "skipped"]
            checks_total += len(judged)
            checks_found += sum(c.status == "alert" for c in judged)
            replays_found += bool(section.alerts)
            parity += sum(c.status == "alert" for c in judged if c.id == "error_rate_parity")
            parity_total += sum(c.id == "error_rate_parity" for c in judged)
            gated += bool(recent_alerts(section, 3))
            breached += any(c.status == "breach" and c.severity == "alert" for w in section.windows[-3:] for c in w.checks)
            if drift != "none":
                hits = [i for i, w in enumerate(section.windows)
                        if any(c.id == EXPECTED[drift] and c.status == "alert" for c in w.checks)]
                if hits:
                    detected += 1
                    delays.append(min(hits) - START)
        rate = f"{detected}/{len(seeds)}" if drift != "none" else "–"
        delay = f"{sum(delays) / len(delays):.1f}" if delays else "–"
        print(f"| {drift} | {len(seeds)} | {replays_found}/{len(seeds)} | {checks_found}/{checks_total} "
              f"({checks_found / max(checks_total, 1):.2%}) | {rate} | {delay} | {parity}/{parity_total} | "
              f"{gated}/{len(seeds)} | {breached}/{len(seeds)} |", flush=True)


if __name__ == "__main__":
    main()
