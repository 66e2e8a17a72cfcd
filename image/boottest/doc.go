// Package boottest boots Hearth's disk images in qemu and checks what an
// owner would see: make image-test runs its TestBoot. The machine helpers
// here (Machine, Relay) are build-time only, like the rest of image/.
package boottest
