"""The networks by hand: closed-form forward and backward in plain NumPy, to check autograd against."""
