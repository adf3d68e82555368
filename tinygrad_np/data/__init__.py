"""Datasets and a DataLoader with PyTorch's names (torch.utils.data), on NumPy arrays."""
from tinygrad_np.data.dataloader import DataLoader
from tinygrad_np.data.dataset import Dataset, TensorDataset, default_collate

__all__ = ["Dataset", "TensorDataset", "DataLoader", "default_collate"]
