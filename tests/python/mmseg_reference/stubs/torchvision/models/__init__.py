"""No models: mmcv.runner.checkpoint lists this package's modules for torchvision:// names."""
