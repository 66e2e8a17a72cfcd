// Package osimage builds Hearth's bootable disk images: a Debian trixie root
// made by mmdebstrap, Hearth's binaries and units on top, and a raw disk
// assembled without mounting anything (mkfs.ext4 -d for the root, mkfs.vfat
// and mtools for the EFI or firmware partition, sfdisk for the table). It is
// build-time only and never linked into hearthd; image/cmd/hearth-image and
// image/boottest use it. Import it as osimage. docs/image.md draws the
// layout.
package osimage
