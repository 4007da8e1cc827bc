"""Judge each window against the reference with the monitoring policy; apply the consecutive-window rules."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audit.record import GroupPoint, MonitorAlert, MonitorWindow, WindowCheck

from ._drift import binned_ks, chi_square_p, difference_ci, impact_ratio_ci, psi, two_proportion_p, wilson
from ._policy import MonitorCheck, MonitorPolicy
from ._stats import GroupCounts, WindowStats

__all__ = ["Window", "evaluate_windows", "accuracy", "macro_f1"]


@dataclass
class Window:
    index: int
    key: str
    start: str
    end: str
    stats: WindowStats
    embedding: tuple[float, float] | None = None  # (MMD^2, permutation p) when embeddings were computed


@dataclass
class _Finding:
    id: str
    subject: str | None
    breached: bool | None  # None: not judged (small window or group, missing data)
    measured: float | None = None
    threshold: float | None = None
    p_value: float | None = None
    evidence: str = ""


def accuracy(confusion: np.ndarray) -> float | None:
    total = confusion.sum()
    return float(np.trace(confusion) / total) if total else None


def macro_f1(confusion: np.ndarray) -> float | None:
    if not confusion.sum():
        return None
    tp = np.diag(confusion).astype(float)
    denom = confusion.sum(0) + confusion.sum(1)
    present = confusion.sum(1) > 0
    f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
    return float(f1[present].mean())


def _drift(check_id: str, ref: np.ndarray | None, win: np.ndarray | None, limit: float, alpha: float, small: bool,
           *, ks: bool = False) -> tuple[_Finding, dict[str, float]]:
    if ref is None or win is None or not np.sum(ref) or not np.sum(win):
        return _Finding(check_id, None, None, evidence="no data"), {}
    value = psi(ref, win)
    if ks:
        d, p = binned_ks(ref, win)
        metrics = {f"{check_id}_psi": value, f"{check_id}_ks": d, f"{check_id}_p": p}
    else:
        p = chi_square_p(ref, win)
        metrics = {f"{check_id}_psi": value, f"{check_id}_p": p}
    breached = None if small else bool(value > limit and p < alpha)
    test = "KS" if ks else "chi-square"
    return _Finding(check_id, None, breached, value, limit, p, f"PSI {value:.3f} (max {limit}), {test} p={p:.2g}"), metrics


def _groups(stats: WindowStats, ref: WindowStats, policy: MonitorPolicy, unknown: str) -> tuple[list[GroupPoint], list[_Finding]]:
    points, findings = [], []
    ir_check, change_check = policy.checks.impact_ratio, policy.checks.selection_rate_change
    for feature, counts in sorted(stats.groups.items()):
        judged = {g: c for g, c in counts.counts.items() if c[0] >= policy.min_group_size and g != unknown}
        rates = {g: c[1] / c[0] for g, c in judged.items()}
        top = max(rates, key=rates.__getitem__) if rates else None
        for group, c in sorted(counts.counts.items()):
            n, sel, labeled, pos, tp, fp = (int(v) for v in c)
            small = group not in judged
            rate = sel / n if n else None
            ir = ir_ci = None
            if top is not None and rates[top] > 0 and not small:
                ir = rate / rates[top]
                ir_ci = impact_ratio_ci(sel, n, int(judged[top][1]), int(judged[top][0]))
            points.append(GroupPoint(feature=feature, group=group, n=n, small=small, selection_rate=rate,
                                     selection_ci=wilson(sel, n), impact_ratio=ir, impact_ci=ir_ci, n_labeled=labeled,
                                     fpr=fp / (labeled - pos) if labeled - pos else None,
                                     fnr=1 - tp / pos if pos else None))
            subject = f"{feature}:{group}"
            if small:
                findings.append(_Finding("impact_ratio", subject, None, evidence=f"n={n} below min_group_size"))
                findings.append(_Finding("selection_rate_change", subject, None, evidence=f"n={n} below min_group_size"))
                continue
            if ir is not None:
                basis = ir_ci[1] if ir_check.use_ci_bound and ir_ci else ir
                findings.append(_Finding("impact_ratio", subject, bool(basis < ir_check.min), ir, ir_check.min, None,
                                         f"impact ratio {ir:.3f} (CI upper {basis:.3f}) vs {top}, min {ir_check.min}"))
            ref_counts = ref.groups.get(feature)
            if ref_counts is not None and group in ref_counts.counts and ref_counts.get(group, "n"):
                rn, rs = ref_counts.get(group, "n"), ref_counts.get(group, "selected")
                change = rate - rs / rn
                p = two_proportion_p(sel, n, rs, rn)
                findings.append(_Finding("selection_rate_change", subject,
                                         bool(abs(change) > change_check.max_change and p < policy.alpha), change,
                                         change_check.max_change, p,
                                         f"selection rate {rate:.3f} vs reference {rs / rn:.3f} (p={p:.2g})"))
    return points, findings


def _error_counts(counts: GroupCounts, group: str) -> dict[str, tuple[int, int]]:
    """(errors, denominator) per rate on rows with a delayed label: FPR = fp / negatives, FNR = fn / positives."""
    labeled, pos = counts.get(group, "labeled"), counts.get(group, "actual_pos")
    return {"fpr": (counts.get(group, "fp"), labeled - pos), "fnr": (pos - counts.get(group, "tp"), pos)}


def _error_parity(stats: WindowStats, policy: MonitorPolicy, unknown: str) -> list[_Finding]:
    """Per feature and rate: each group's error rate against the lowest judged group's, on labeled rows only; a group
    needs `min_group_size` labeled rows in the rate's denominator (negatives for FPR, positives for FNR)."""
    check, findings = policy.checks.error_rate_parity, []
    for feature, counts in sorted(stats.groups.items()):
        for rate in check.rates:
            have = {g: _error_counts(counts, g)[rate] for g in sorted(counts.counts) if g != unknown}
            judged = {g: (x, n) for g, (x, n) in have.items() if n >= policy.min_group_size}
            best = min(judged, key=lambda g: (judged[g][0] / judged[g][1], g)) if len(judged) > 1 else None
            for group, (x, n) in have.items():
                subject = f"{feature}:{group} {rate}"
                if best is None or group not in judged:
                    why = (f"{n} labeled rows in the {rate.upper()} denominator, below min_group_size" if group not in
                           judged else "fewer than two groups with enough labeled rows")
                    findings.append(_Finding("error_rate_parity", subject, None, evidence=why))
                    continue
                if group == best:
                    continue
                bx, bn = judged[best]
                gap, ci, p = x / n - bx / bn, difference_ci(x, n, bx, bn), two_proportion_p(x, n, bx, bn)
                breached = ci[0] > check.max_gap if check.use_ci_bound else gap > check.max_gap and p < policy.alpha
                findings.append(_Finding(
                    "error_rate_parity", subject, bool(breached), gap, check.max_gap, p,
                    f"{rate.upper()} {x / n:.3f} (n={n}) vs lowest {best} {bx / bn:.3f} (n={bn}): gap {gap:.3f} "
                    f"(95% CI {ci[0]:.3f}-{ci[1]:.3f}), p={p:.2g}, max {check.max_gap}"))
    return findings


def _text(stats: WindowStats, ref: WindowStats, policy: MonitorPolicy, small: bool) -> tuple[list[_Finding], dict[str, float]]:
    if stats.text is None or ref.text is None or not stats.text.n:
        return [], {}
    t, r = stats.text, ref.text
    findings, metrics = [], {}
    finding, m = _drift("text_length_drift", r.length_hist, t.length_hist, policy.checks.text_length_drift.max_psi,
                        policy.alpha, small)
    findings.append(finding)
    metrics.update(m)
    names = sorted(set(r.scripts) | set(t.scripts))
    finding, m = _drift("script_mix_drift", np.array([r.scripts.get(s, 0) for s in names]),
                        np.array([t.scripts.get(s, 0) for s in names]), policy.checks.script_mix_drift.max_psi,
                        policy.alpha, small)
    findings.append(finding)
    metrics.update(m)
    if t.tokens and r.tokens:
        rate, base = t.oov_tokens / t.tokens, r.oov_tokens / r.tokens
        p = two_proportion_p(t.oov_tokens, t.tokens, r.oov_tokens, r.tokens)
        limit = policy.checks.oov_rate.max_increase
        metrics.update(oov_rate=rate, oov_rate_reference=base)
        findings.append(_Finding("oov_rate", None, None if small else bool(rate - base > limit and p < policy.alpha),
                                 rate - base, limit, p, f"OOV token rate {rate:.4f} vs reference {base:.4f}"))
    if t.pii_checked:
        rate = t.pii_texts / t.pii_checked
        metrics["pii_rate"] = rate
        limit = policy.checks.pii_rate.max
        findings.append(_Finding("pii_rate", None, None if small else bool(rate > limit), rate, limit, None,
                                 f"{t.pii_texts} of {t.pii_checked} texts hold pattern-detected PII"))
    return findings, metrics


def _window_findings(window: Window, ref: WindowStats, policy: MonitorPolicy, labels: list[str], previous: list[int],
                     unknown: str) -> tuple[MonitorWindow, list[_Finding]]:
    s = window.stats
    small = s.n < policy.min_window_rows
    metrics: dict[str, float | None] = {"n": float(s.n), "n_labeled": float(s.n_labeled)}
    for i, label in enumerate(labels):
        metrics[f"share_{label}"] = float(s.pred_counts[i] / s.n) if s.n else None
    findings: list[_Finding] = []
    if previous:
        median = float(np.median(previous[-8:]))
        limit = policy.checks.volume.min_ratio
        findings.append(_Finding("volume", None, bool(s.n < limit * median), s.n / median if median else None, limit,
                                 None, f"{s.n} rows vs median {median:.0f} of previous windows"))
    for check_id, ref_counts, win_counts, ks in (("prediction_drift", ref.pred_counts, s.pred_counts, False),
                                                 ("score_drift", ref.score_hist, s.score_hist, True)):
        limit = getattr(policy.checks, check_id).max_psi
        finding, m = _drift(check_id, ref_counts, win_counts, limit, policy.alpha, small, ks=ks)
        findings.append(finding)
        metrics.update(m)
    text_findings, text_metrics = _text(s, ref, policy, small)
    findings += text_findings
    metrics.update(text_metrics)
    if window.embedding is not None:
        mmd, p = window.embedding
        metrics.update(embedding_mmd=mmd, embedding_p=p)
        findings.append(_Finding("embedding_drift", None, None if small else bool(p < policy.alpha), mmd, None, p,
                                 f"MMD^2 {mmd:.4f}, permutation p={p:.3f}"))
    acc, ref_acc = accuracy(s.confusion), accuracy(ref.confusion)
    metrics.update(accuracy=acc, macro_f1=macro_f1(s.confusion))
    if acc is not None and ref_acc is not None:
        enough = s.n_labeled >= policy.min_labeled_rows
        correct, ref_correct = int(np.trace(s.confusion)), int(np.trace(ref.confusion))
        p = two_proportion_p(correct, s.n_labeled, ref_correct, ref.n_labeled)
        limit = policy.checks.accuracy_drop.max_drop
        findings.append(_Finding("accuracy_drop", None, bool(ref_acc - acc > limit and p < policy.alpha) if enough
                                 else None, ref_acc - acc, limit, p,
                                 f"accuracy {acc:.3f} on {s.n_labeled} labeled rows vs reference {ref_acc:.3f}"))
    points, group_findings = _groups(s, ref, policy, unknown)
    group_findings += _error_parity(s, policy, unknown)
    if small:
        group_findings = [_Finding(f.id, f.subject, None, evidence="window below min_window_rows") for f in group_findings]
    findings += group_findings
    result = MonitorWindow(key=window.key, start=window.start, end=window.end, n=s.n, small=small,
                           metrics=metrics, groups=points)
    return result, [f for f in findings if getattr(policy.checks, f.id).enabled]


def evaluate_windows(windows: list[Window], reference: WindowStats, policy: MonitorPolicy, labels: list[str], *,
                     touched: set[str], unknown_group: str = "unknown") -> tuple[list[MonitorWindow], list[MonitorAlert]]:
    """Every window's metrics and checks, in order; an alert where a breach has lasted `consecutive` windows."""
    results: list[MonitorWindow] = []
    streaks: dict[tuple[str, str | None], int] = {}
    alerts: list[MonitorAlert] = []
    sizes: list[int] = []
    windows = sorted(windows, key=lambda w: w.index)
    latest = windows[-1].key if windows else None
    for window in windows:
        result, findings = _window_findings(window, reference, policy, labels, sizes, unknown_group)
        sizes.append(window.stats.n)
        for f in findings:
            check: MonitorCheck = getattr(policy.checks, f.id)
            need = check.consecutive or policy.consecutive
            key = (f.id, f.subject)
            if f.breached is None:
                status = "skipped"
            elif f.breached:
                streaks[key] = streaks.get(key, 0) + 1
                status = "alert" if streaks[key] >= need else "breach"
            else:
                streaks[key] = 0
                status = "pass"
            result.checks.append(WindowCheck(id=f.id, subject=f.subject, status=status, severity=check.severity,
                                             measured=f.measured, threshold=f.threshold, p_value=f.p_value,
                                             evidence=f.evidence))
            if status == "alert":
                alerts.append(MonitorAlert(window=window.key, check=f.id, subject=f.subject, severity=check.severity,
                                           measured=f.measured, threshold=f.threshold, evidence=f.evidence,
                                           active=window.key in touched or window.key == latest))
        results.append(result)
    return results, alerts
