"""Rendering what was recorded and analysed, for people: the HTML pages (one run, several runs,
compare, sweep) through one template set, one stylesheet and one chart path (matplotlib to inline
SVG), and the terminal, Markdown, CSV and JUnit outputs. `bench run` measures and writes the run,
then calls `page.report_beside` on the directory: the same code as `bench report DIR`.

Importing this package imports nothing heavy: the CLI's escaping of user strings lives here too.
"""
