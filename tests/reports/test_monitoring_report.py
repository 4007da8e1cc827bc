"""The report's monitoring section: trend charts with alert markers linking to the window's evidence row."""
from __future__ import annotations

import re

from audit.record import RunRecord
from audit.record.status import monitoring_status
from monitor_synth import log_frame, monitor, write_log
from reports.render import render_report


def test_monitoring_section_charts_and_links_alerts(tmp_path):
    log = write_log(log_frame(21, drift="group_selection_falls"), tmp_path / "log.csv")
    _, section = monitor(tmp_path, [log], 21)
    record = RunRecord(run_id="r1.monitor", parent_run_id="r1", monitoring=section)
    html = render_report(record, "html")
    assert '<section id="monitoring">' in html and "monitors run <code>r1</code>" in html
    assert "Impact ratio by sex" in html and "Selection rate by age" in html
    links = set(re.findall(r'<a href="#(mon-[^"]+)"><circle', html))
    assert links and all(f'<tr id="{anchor}">' in html for anchor in links)
    assert 'href="#mon-2023-05-06T00-00Z"' in html  # the first impact-ratio alert (consecutive: 2)
    ms = monitoring_status(section)  # the numbers the gate's monitoring check counts
    assert ms.alerts > 0 and f'class="badge s-fail">alert</span>: {ms.alerts} open alert(s), {ms.warnings} open' in html


def test_report_without_monitoring_has_no_section():
    assert 'id="monitoring"' not in render_report(RunRecord(run_id="r2"), "html")
