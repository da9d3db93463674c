"""Reporting completeness: who owes which report for which period, and who has sent it (issue 4)."""
