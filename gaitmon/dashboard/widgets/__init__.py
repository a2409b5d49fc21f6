"""The parts of the dashboard's screen, one module each, top to bottom as the coach sees them:

- :mod:`.banner`: the flag banner (the flag's sentence and the evidence it rests on);
- :mod:`.numbers`: the current step's numbers for each leg in large type;
- :mod:`.traces`: sagittal ω per leg with TO / MSW / IC markers, gaps and hand marks, and |a|;
- :mod:`.balance`: the strength-balance plots (swing and push side across reps and steps);
- :mod:`.tables`: the rep table and sensor health;

with :mod:`.theme` (the outdoor and indoor colours, the legs' order and the style sheet's fonts)
and :mod:`.plots` (what the trace and balance plots share). :mod:`gaitmon.dashboard.window` lays
them out under the controls and paces their drawing. Importing this package imports no Qt.
"""
