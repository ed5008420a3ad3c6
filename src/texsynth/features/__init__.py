"""Stage 2, features: the networks whose feature maps describe a texture (VGG-19 and
VGG-16, a random multi-scale network, EfficientNet-Lite0) and their weights.
"""
