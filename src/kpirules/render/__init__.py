"""Render stage: turn a result's JSON form into text for people. Renderers read nothing else."""
