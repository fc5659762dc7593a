"""The workstation side of a deploy: send the runtime and model to the Pi over SSH."""
