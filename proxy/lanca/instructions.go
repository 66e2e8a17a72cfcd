package lanca

// Instruction tells an owner how to make one platform trust the root.
type Instruction struct {
	// Platform is a stable key: android, ios, macos, windows, linux, firefox.
	Platform string `json:"platform"`
	// Title is the platform's name as shown to owners.
	Title string `json:"title"`
	// Steps are short sentences, in order.
	Steps []string `json:"steps"`
}

// Instructions are the steps for this CA's root, with its name and
// fingerprint filled in.
func (ca *CA) Instructions() []Instruction {
	return Instructions(ca.Name(), ca.Fingerprint())
}

// Instructions are the per-platform steps to trust a root called name whose
// SHA-256 fingerprint is fingerprint, after downloading it from the UI.
func Instructions(name, fingerprint string) []Instruction {
	check := "Check that its SHA-256 fingerprint is " + fingerprint + "."
	return []Instruction{
		{
			Platform: "android",
			Title:    "Android",
			Steps: []string{
				"Download the certificate on the phone.",
				"Open Settings > Security & privacy > More security settings > Encryption & credentials > Install a certificate > CA certificate.",
				"Tap Install anyway and pick the downloaded file.",
				"Chrome trusts it at once; apps that do not accept user certificates keep refusing it.",
			},
		},
		{
			Platform: "ios",
			Title:    "iPhone and iPad",
			Steps: []string{
				"Download the certificate in Safari and allow the configuration profile.",
				"Open Settings > General > VPN & Device Management, tap " + name + " and Install.",
				"Open Settings > General > About > Certificate Trust Settings and turn on full trust for " + name + ".",
			},
		},
		{
			Platform: "macos",
			Title:    "macOS",
			Steps: []string{
				"Open the downloaded file: Keychain Access adds it to the login keychain.",
				"Double-click " + name + ", open Trust and set When using this certificate to Always Trust.",
				check,
				"Close the window and confirm with your password.",
			},
		},
		{
			Platform: "windows",
			Title:    "Windows",
			Steps: []string{
				"Open the downloaded file and choose Install Certificate.",
				"Choose Current User, then Place all certificates in the following store > Trusted Root Certification Authorities.",
				"Finish, and confirm the security warning after you " + lowerFirst(check),
			},
		},
		{
			Platform: "linux",
			Title:    "Linux",
			Steps: []string{
				"Copy the file to /usr/local/share/ca-certificates/hearth.crt and run sudo update-ca-certificates.",
				"Chrome and Chromium keep their own list: run certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n \"" + name + "\" -i hearth.crt (from libnss3-tools).",
				"Restart the browser.",
			},
		},
		{
			Platform: "firefox",
			Title:    "Firefox (any system)",
			Steps: []string{
				"Open Settings > Privacy & Security > Certificates > View Certificates > Authorities.",
				"Choose Import, pick the downloaded file and tick Trust this CA to identify websites.",
			},
		},
	}
}

func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	return string(s[0]+'a'-'A') + s[1:]
}
