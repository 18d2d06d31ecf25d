"""A stand-in for torchvision in the MMSegmentation reference environment: mmcv.runner imports
it to list torchvision's model URLs, which the reference never uses (no wheel of torchvision
matches the main environment's torch)."""
__version__ = "0+stand-in"
