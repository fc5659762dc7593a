"""The benchmark behind `make bench`: what it runs, how it measures, its Markdown report."""
