package manifest

import "testing"

func TestDeviceAllowed(t *testing.T) {
	for _, tc := range []struct {
		device string
		want   bool
	}{
		{"/dev/dri", true},
		{"/dev/dri/renderD128", true},
		{"/dev/kfd", true},
		{"/dev/nvidia0", true},
		{"/dev/bus/usb/001/002", true},
		{"/dev/ttyUSB0", true},
		{"/dev/serial/by-id/usb-x", true},
		{"/dev/snd", true},
		{"/dev/video10", true},
		{"/dev/dvb", true},
		{"/dev/dvb/adapter0", true},
		{"/dev/dvb/adapter0/frontend0", true},
		{"/dev/vchiq", true},
		{"/dev/vcsm", true},
		{"/dev/net/tun", true},
		{"/dev/fuse", true},
		{"/dev/sda", false},
		{"/dev/mem", false},
		{"/dev/kvm", false},
		{"/dev/input", false},
		{"/dev/kmsg", false},
		{"/dev/dvb/../sda", false},
		{"/dev/dvb/adapter0/../../sda", false},
		{"/dev/vchiq0", false},
		{"/dev", false},
	} {
		t.Run(tc.device, func(t *testing.T) {
			if got := DeviceAllowed(tc.device); got != tc.want {
				t.Errorf("DeviceAllowed(%q): got %v, want %v", tc.device, got, tc.want)
			}
		})
	}
}

func TestNamespacedSysctl(t *testing.T) {
	for _, tc := range []struct {
		key  string
		want bool
	}{
		{"net.ipv4.ip_forward", true},
		{"net.core.somaxconn", true},
		{"kernel.shmmax", true},
		{"kernel.msgmnb", true},
		{"kernel.sem", true},
		{"fs.mqueue.msg_max", true},
		{"kernel.semx", false},
		{"kernel.panic", false},
		{"vm.swappiness", false},
		{"fs.file-max", false},
		{"network.x", false},
	} {
		t.Run(tc.key, func(t *testing.T) {
			if got := NamespacedSysctl(tc.key); got != tc.want {
				t.Errorf("NamespacedSysctl(%q): got %v, want %v", tc.key, got, tc.want)
			}
		})
	}
}
