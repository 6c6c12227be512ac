"""Analyses: pure functions from the data stage's entries to typed results.

    hull        phase diagrams per chemical system, built once and shared
    window      electrochemical window and Li-uptake staircase
    reactivity  reaction energy of two phases over the mixing ratio
    evaluate    the study's requests -> results (analyses.json)
"""
