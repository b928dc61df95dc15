"""Reads for the director's outcomes page: every figure is one or two aggregate queries.

Each figure is a small table of cells. A cell is defined once, as a condition (`Q`) on the
rows the figure counts, and that one definition serves three purposes: the database counts
it (`Count(filter=...)`), the CSV exports it, and the drill-down list shows the rows behind
it. So a number on the page and the list behind it can never disagree.
The exception, for speed: referrals, follow-ups, housing and self-sufficiency are summed from
counts kept in advance (`OutcomeCount`, see services/outcome_counts.py, which files each
record under the day and cell these definitions put it in), while their drill-downs still
query the rows; the tests follow every such number to its list to keep the two equal.

Only plain columns are used (statuses, domains, dates, foreign keys, scores): the free-text
fields are encrypted and the database cannot read them.

The period is [start, end] in the organization's timezone (the middleware activates it);
a date-time column is compared with the aware instants that begin `start` and follow `end`.
"""
