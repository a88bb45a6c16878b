"""Importing real data: 12345 exports, spreadsheets, Open311 JSON, grid boundaries.

- ``sources`` reads a file into chunks of raw rows (``limits`` caps it before reading; ``errors``
  holds ``ImportFileError``);
- ``mapping`` finds the columns (headers, aliases, value lists, mapping files);
- ``values`` and ``rows`` parse and check values and place rows in grids;
- ``run`` drives one import of cases or resources through ``store.Store`` in a single transaction;
- ``grids`` reads a boundary layer and replaces the old one;
- ``entry`` is the one entry point the CLI and the admin page share.
"""
