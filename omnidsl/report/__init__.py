"""Pictures and HTML reports: PNG charts (matplotlib, the ``[plot]`` extra), small HTML pages,
and report folders written all or nothing.  The stages own their reports
(:mod:`omnidsl.market.report`, :mod:`omnidsl.compiler.report_html`); this package only draws."""
