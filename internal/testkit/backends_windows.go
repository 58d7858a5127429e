package testkit

// backends are the engines of Windows: the portable one first, then IOCP.
var backends = []string{"std", "iocp"}
