"""The report: a results directory in, ``reports/<suite>/<run-id>/`` out (analysis half).

    data.py       ReportData: one run (and its baseline) loaded for the report
    palette.py    one colour per optimizer, the same in every figure
    figures/      one module per kind of figure: plotting functions (a tidy frame in, a
                  matplotlib Figure out, no file I/O) and a ``build(data)`` that prepares
                  their frames and returns FigureItems
    tables.py     the report's tables (also written as tables/*.csv)
    markdown.py   report.md; html.py and templates/: the self-contained index.html
    build.py      writes everything: `optbench report`

Needs pandas, seaborn and matplotlib (``optbench[report]``); the device half never imports it.
"""
