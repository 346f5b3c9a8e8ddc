"""Vectorised sweeps: many trials of one configuration trained at once (issue 22).

A suite with ``vectorise: true`` trains the trials that differ only in learning rate and
seed as one computation: their parameters stacked along a leading trial dimension, one
batched forward, backward and update per step (bench.vectorised.stacked), each trial with
its own learning rate, optimizer state, data and batch order. Each trial still gets its
own record and curve, under the trial id a sequential run gives it, with the same
figures to within rounding (tests/test_vectorised.py holds them to it); its timing is the
batch's, and the record marks it so.

* grouping: which trials can share a batch, and what a vectorised suite may hold.
* stacked: the stacked MLP and the per-trial update rules.
* points: the landscapes' points, stacked, with each trial's noise and path.
* batches: each trial's batches, gathered for all at once.
* trainer: the batch's training loop, bench.trainer's step for step.
"""
