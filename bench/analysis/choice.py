"""Which learning rate, and which configuration per optimizer: bench.ranking's rule, restricted.

Both functions rank every configuration once with ``bench.ranking.rank`` and then read that
one order restricted to a subset (a setting's learning rates, an optimizer's
configurations). A standing depends only on its own configuration's trials, and the order
is total, so a restriction of the ranked list is the ranking of the subset: there is no
second rule here to drift from the device half's.

A *setting* is a configuration without its learning rate (and, like every configuration,
without its seed): problem, optimizer, hyper, activation, batch, dropout, batch_norm, device,
implementation, threads, and the rest of the configuration key (budget, options).

Scores are bench.ranking's: the final training loss, or minus the final metric where the
target is an accuracy (lower is better either way); infinity where most seeds failed.
"""

import json
from typing import Dict, List, Sequence, Tuple

from bench import optimizers, ranking
from bench.analysis import require_pandas, summary

SETTING_COLUMNS = [
    "problem", "optimizer", "hyper", "activation", "batch", "dropout", "batch_norm", "device",
    "implementation", "threads",
]  # fmt: skip

BEST_LR_COLUMNS = SETTING_COLUMNS + [
    "lr", "configuration", "seeds", "score_median", "time_to_target_median_s", "runner_up_lr",
    "runner_up_score_median", "lrs_tried",
]  # fmt: skip


def setting_key(configuration: str) -> str:
    """A configuration key (bench.ranking.configuration_key) without its learning rate."""
    config = json.loads(configuration)
    config.pop("lr", None)
    return json.dumps(config, sort_keys=True)


def optimizer_of(configuration: str) -> str:
    return json.loads(configuration)["optimizer"]


def ranked(trials) -> Dict[str, List[ranking.Standing]]:
    """bench.ranking.rank over the trials frame: per problem, its configurations best first."""
    return ranking.rank(trials.to_dict("records"))


def in_report_order(frame, by=("problem", "optimizer"), problems=None):
    """Rows sorted by problem (in ``problems``' order, else first appearance), then by
    optimizer in their declared order (bench.optimizers; the report's colours follow it too),
    then by the other ``by`` columns; the index reset."""
    if frame.empty:
        return frame.reset_index(drop=True)
    problem_order = list(problems) if problems is not None else list(dict.fromkeys(frame["problem"]))
    declared = list(optimizers.OPTIMIZERS)
    keys = frame.assign(
        _problem=frame["problem"].map({p: i for i, p in enumerate(problem_order)}),
        _optimizer=frame["optimizer"].map(
            lambda o: (declared.index(o), "") if o in declared else (len(declared), o)
        ),
    )
    rest = [c for c in by if c not in ("problem", "optimizer")]
    return (
        keys.sort_values(["_problem", "_optimizer"] + rest, kind="stable")
        .drop(columns=["_problem", "_optimizer"])
        .reset_index(drop=True)
    )


def _describe(trials):
    """configuration -> its first trial row (the columns every seed shares)."""
    return trials.drop_duplicates("configuration").set_index("configuration")


def best_learning_rates(trials):
    """Per setting, the best learning rate by bench.ranking's rule, and the runner-up.

    Columns: the setting columns (SETTING_COLUMNS), ``lr`` and ``configuration`` of the best
    cell, ``seeds`` (its ranked trials), ``score_median`` and ``time_to_target_median_s`` (the
    ranking's: medians over seeds, a failed seed scoring infinity and a seed that never
    reached the target taking infinitely long), ``runner_up_lr`` and
    ``runner_up_score_median`` (NaN where the setting tried one rate), ``lrs_tried``.
    Settings whose trials were all skipped are not ranked, so not listed."""
    pd = require_pandas()
    describe = _describe(trials)
    rows = []
    for standings in ranked(trials).values():
        by_setting = {}  # type: Dict[str, List[ranking.Standing]]
        for standing in standings:
            by_setting.setdefault(setting_key(standing.configuration), []).append(standing)
        for group in by_setting.values():
            best = describe.loc[group[0].configuration]
            runner_up = describe.loc[group[1].configuration] if len(group) > 1 else None
            row = {column: best[column] for column in SETTING_COLUMNS}
            row.update(
                lr=best["lr"], configuration=group[0].configuration, seeds=group[0].seeds,
                score_median=group[0].score, time_to_target_median_s=group[0].time_to_target_s,
                runner_up_lr=runner_up["lr"] if runner_up is not None else float("nan"),
                runner_up_score_median=group[1].score if runner_up is not None else float("nan"),
                lrs_tried=len(group),
            )  # fmt: skip
            rows.append(row)
    return in_report_order(pd.DataFrame(rows, columns=BEST_LR_COLUMNS), by=SETTING_COLUMNS)


def best_configurations(trials, by: Sequence[str] = ("optimizer",)) -> Dict[Tuple, ranking.Standing]:
    """(problem, *the configuration's values of ``by``) -> the standing of that group's best
    configuration: per optimizer by default, or per (optimizer, activation) and so on."""
    chosen = {}  # type: Dict[Tuple, ranking.Standing]
    for problem, standings in ranked(trials).items():
        for standing in standings:
            config = json.loads(standing.configuration)
            chosen.setdefault((problem,) + tuple(config[column] for column in by), standing)
    return chosen


def best_per_optimizer(trials):
    """Per (problem, optimizer), its best configuration: bench.ranking's order restricted to
    that optimizer. Columns: summary.per_configuration's (medians and IQRs over seeds, the
    shares reached/diverged/unstable), then ``score_median`` and ``ranking_time_s`` (the
    ranking's median time to target, a seed that never reached it counting as infinite)."""
    pd = require_pandas()
    chosen = best_configurations(trials)
    table = summary.per_configuration(trials)
    if table.empty or not chosen:
        return pd.DataFrame(columns=list(table.columns) + ["score_median", "ranking_time_s"])
    keys = {(problem, standing.configuration): standing for (problem, _), standing in chosen.items()}
    picked = [(p, c) in keys for p, c in zip(table["problem"], table["configuration"])]
    out = pd.DataFrame(table[picked]).copy()
    out["score_median"] = [keys[(p, c)].score for p, c in zip(out["problem"], out["configuration"])]
    out["ranking_time_s"] = [
        keys[(p, c)].time_to_target_s for p, c in zip(out["problem"], out["configuration"])
    ]
    problems = list(dict.fromkeys(trials["problem"]))
    return in_report_order(out, problems=problems)


LABEL_AXES = ["activation", "batch", "dropout", "batch_norm", "hyper", "device", "implementation", "threads"]


def varying_axes(trials, problem: str) -> List[str]:
    """The axes besides optimizer and lr that the suite varied on this problem (ran trials)."""
    ran = trials[(trials["problem"] == problem) & ~trials["status"].isin(ranking.NOT_RANKED)]
    return [axis for axis in LABEL_AXES if ran[axis].astype(str).nunique() > 1]


def setting_label(trials, configuration: str, axes: List[str]) -> str:
    """'activation tanh, batch 32': a configuration's values on ``axes`` (empty for none)."""
    row = trials.loc[trials["configuration"] == configuration].iloc[0]
    return ", ".join(f"{axis} {row[axis]}" for axis in axes)
