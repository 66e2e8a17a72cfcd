// Package firstboot holds the first-boot stages: the setup code and the claim
// of the box. Each stage is idempotent and may run again.
package firstboot
