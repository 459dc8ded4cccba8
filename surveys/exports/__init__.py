"""Exports of an indicator report for people: XLSX for coordinators, tidy CSV, PNG charts.

What people read in them is Danish, written here as literals rather than through
gettext: the exports are the municipality's own documents, passed around among its
staff, and one report should read the same whoever downloaded it.
"""
