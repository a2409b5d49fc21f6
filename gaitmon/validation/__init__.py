"""How well gaitmon agrees with a reference: event matching and statistics (``evaluation``),
the accuracy suites (``accuracy``) and where reference events sit on the signal (``anatomy``)."""
