// Package osimage builds Hearth's bootable disk images. It is build-time only
// and never linked into hearthd. Import it as osimage.
package osimage
