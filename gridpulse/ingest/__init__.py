"""Importing real data: 12345 exports, spreadsheets, Open311 JSON, grid boundaries.

``sources`` reads a file into chunks of raw rows, ``mapping`` finds the columns,
``normalize`` turns raw rows into GridPulse rows (or reasons to reject them), and
``run`` drives one import through ``db.Store`` in a single transaction.
"""
