"""The tutorial problems, by name."""

from bench.problems import convnets, curve, landscapes, linear
from bench.problems.base import ModelSpec, Option, Problem, ProblemData, Target

PROBLEMS = {p.name: p for p in linear.PROBLEMS + curve.PROBLEMS + convnets.PROBLEMS + landscapes.PROBLEMS}

__all__ = ["PROBLEMS", "ModelSpec", "Option", "Problem", "ProblemData", "Target"]
