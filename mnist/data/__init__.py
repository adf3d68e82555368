"""Getting the images: the IDX reader, the datasets (vendored MNIST or a folder) and model inputs."""
