"""Paired comparison of optimizers, seed by seed, with exact small-sample tests.

Trials of one suite seed share their data, initial weights and batch order whatever the
optimizer, so two configurations' trials at the same ``seed_index`` are a pair: the
difference of their scores is the optimizer's doing, not the draw's. Per problem, the
winner (bench.ranking's best configuration) is compared with each other optimizer's best
configuration (chosen by the same rule) on the seeds both ran.

Scores are bench.ranking.trial_score (lower is better; a diverged or failed trial scores
infinity, so it loses to any finite score and ties with another failure). A pair ties when
the two scores are equal; ties are left out of both tests, as usual.

Tests, both exact (no normal approximation; no scipy):
* the two-sided sign test over the pairs that did not tie: p = P(|B - n/2| >= |wins - n/2|)
  for B ~ Binomial(n, 1/2). With n seeds its smallest p is 2 / 2**n: 0.25 at 3 seeds, 0.0625
  at 5; at five seeds or fewer no result can reach 0.05.
* the Wilcoxon signed-rank test where at least WILCOXON_MIN_PAIRS pairs did not tie and
  their differences are not all of one size (then it would be the sign test): ranks
  of |difference| (mid-ranks for tied magnitudes, an infinite difference ranking above every
  finite one), its exact null distribution by counting all 2**n sign patterns. It uses the
  sizes of the differences, so it can see what the sign test cannot once there are enough
  seeds.

ALPHA (0.05) is the conventional level. Both tests are exact, so under the null (the two
optimizers exchangeable on every seed) the rate of false "beats" verdicts is at most ALPHA by
construction, at any number of seeds: no A/A measurement is needed to justify it. The verdict
always states the seeds and the p-value, so a reader can apply another level.
"""

import math
from typing import Dict, List, Sequence, Tuple

from bench import ranking
from bench.analysis import choice, require_pandas

ALPHA = 0.05
WILCOXON_MIN_PAIRS = 6  # below it the signed-rank test's smallest p is over 0.05 (2/2**5 = 0.0625)
SIGN = "sign test"
WILCOXON = "Wilcoxon signed-rank"

COLUMNS = [
    "problem", "optimizer", "winner", "lr", "winner_lr", "seeds", "wins", "losses", "ties", "test",
    "p_value", "sign_p_value", "significant", "verdict", "configuration", "winner_configuration",
]  # fmt: skip


def sign_test(wins: int, losses: int) -> float:
    """Exact two-sided sign test p-value; 1.0 where there is nothing to test."""
    n = wins + losses
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(wins, losses) + 1))
    return min(1.0, 2.0 * tail / 2**n)


def _midranks(values: Sequence[float]) -> List[float]:
    """Ranks 1..n of values, tied values sharing their mean rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return ranks


def wilcoxon_test(differences: Sequence[float]) -> float:
    """Exact two-sided Wilcoxon signed-rank p-value over the non-zero differences.

    W+ is the sum of the ranks of the positive differences; under the null each rank's sign
    is a fair coin. Mid-ranks are multiples of 1/2, so doubling them gives integers and the
    null distribution is counted exactly over the 2**n sign patterns by dynamic programming."""
    nonzero = [d for d in differences if d != 0]
    n = len(nonzero)
    if n == 0:
        return 1.0
    doubled = [int(round(2 * r)) for r in _midranks([abs(d) for d in nonzero])]
    observed = sum(r for r, d in zip(doubled, nonzero) if d > 0)
    counts = {0: 1}  # sum of doubled ranks with a plus sign -> number of sign patterns
    for rank in doubled:
        step = dict(counts)
        for total, ways in counts.items():
            step[total + rank] = step.get(total + rank, 0) + ways
        counts = step
    below = sum(ways for total, ways in counts.items() if total <= observed)
    above = sum(ways for total, ways in counts.items() if total >= observed)
    return min(1.0, 2.0 * min(below, above) / 2**n)


def _difference(loser_score: float, winner_score: float) -> float:
    """How much worse the other optimizer did on this seed (positive: the winner won)."""
    if loser_score == winner_score:  # also both infinite: two failures tie
        return 0.0
    return loser_score - winner_score  # +inf or -inf where exactly one failed


def _verdict(winner: str, other: str, seeds: int, wins: int, losses: int, test: str, p: float) -> str:
    def count(n):
        return "{} seed{}".format(n, "" if n == 1 else "s")

    if seeds == 0:
        return f"{winner} and {other} share no seed: not compared"
    if wins == losses:
        return f"{winner} and {other} not distinguishable with {count(seeds)} ({wins} wins each, {seeds - wins - losses} ties)"
    better, worse, won = (winner, other, wins) if wins > losses else (other, winner, losses)
    text = f"{better} beats {worse} on {won}/{seeds} seeds ({test}, p = {p:.2g}"
    if p <= ALPHA:
        return text + ")"
    return text + f": not significant at {count(seeds)})"


def _scores_by_seed(trials, configuration: str) -> Dict[int, float]:
    rows = trials[(trials["configuration"] == configuration) & ~trials["status"].isin(ranking.NOT_RANKED)]
    return {
        int(row["seed_index"]): ranking.trial_score(row["status"], row["final_loss"], row["final_metric"], row["target"])
        for row in rows.to_dict("records")
    }  # fmt: skip


def compare(
    winner_scores: Dict[int, float], other_scores: Dict[int, float]
) -> Tuple[int, int, int, str, float, float]:
    """(wins, losses, ties, test, p_value, sign_p_value) of the winner over the shared seeds."""
    seeds = sorted(set(winner_scores) & set(other_scores))
    differences = [_difference(other_scores[s], winner_scores[s]) for s in seeds]
    wins = sum(1 for d in differences if d > 0)
    losses = sum(1 for d in differences if d < 0)
    sign_p = sign_test(wins, losses)
    magnitudes = {abs(d) for d in differences if d != 0}
    if wins + losses >= WILCOXON_MIN_PAIRS and len(magnitudes) > 1:  # all equal: it is the sign test
        return wins, losses, len(seeds) - wins - losses, WILCOXON, wilcoxon_test(differences), sign_p
    return wins, losses, len(seeds) - wins - losses, SIGN, sign_p, sign_p


def compare_optimizers(trials):
    """Per problem, the winner against each other optimizer's best configuration, seed by seed.

    Columns: problem, optimizer (the other one), winner, lr and winner_lr, seeds (paired
    seeds), wins/losses/ties (of the winner), test (SIGN or WILCOXON), p_value (of that
    test), sign_p_value (always), significant (p_value <= ALPHA), verdict (a sentence that
    states the seeds and p), configuration and winner_configuration. A problem with a
    single optimizer has no rows."""
    pd = require_pandas()
    chosen = choice.best_configurations(trials)
    describe = trials.drop_duplicates("configuration").set_index("configuration")
    winners = ranking.best(trials.to_dict("records"))
    rows = []
    for problem, top in winners.items():
        winner = choice.optimizer_of(top.configuration)
        winner_scores = _scores_by_seed(trials, top.configuration)
        for (its_problem, optimizer), standing in chosen.items():
            if its_problem != problem or optimizer == winner:
                continue
            wins, losses, ties, test, p, sign_p = compare(
                winner_scores, _scores_by_seed(trials, standing.configuration)
            )
            seeds = wins + losses + ties
            rows.append({
                "problem": problem, "optimizer": optimizer, "winner": winner,
                "lr": describe.loc[standing.configuration, "lr"], "winner_lr": describe.loc[top.configuration, "lr"],
                "seeds": seeds, "wins": wins, "losses": losses, "ties": ties, "test": test, "p_value": p,
                "sign_p_value": sign_p, "significant": p <= ALPHA,
                "verdict": _verdict(winner, optimizer, seeds, wins, losses, test, p),
                "configuration": standing.configuration, "winner_configuration": top.configuration,
            })  # fmt: skip
    problems = list(dict.fromkeys(trials["problem"]))
    return choice.in_report_order(pd.DataFrame(rows, columns=COLUMNS), problems=problems)
