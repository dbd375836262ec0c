"""Figures: one run or several overlaid (:mod:`.plotting`) and a sweep's figures
(:mod:`.sweep_plots`). Matplotlib is imported when a figure is drawn, not before."""
