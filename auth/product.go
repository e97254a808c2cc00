package auth

// Product selects the dialect of a Proxmox server: header names, separators,
// cookie names and identifier rules differ between Proxmox VE and Proxmox
// Backup Server.
type Product int

const (
	// PVE is Proxmox Virtual Environment (default port 8006).
	PVE Product = iota + 1
	// PBS is Proxmox Backup Server (default port 8007).
	PBS
)

// String returns "PVE", "PBS" or "unknown".
func (p Product) String() string {
	switch p {
	case PVE:
		return "PVE"
	case PBS:
		return "PBS"
	default:
		return "unknown"
	}
}

// DefaultPort is the HTTPS port the product listens on out of the box.
func (p Product) DefaultPort() int {
	if p == PVE {
		return 8006
	}
	return 8007
}
