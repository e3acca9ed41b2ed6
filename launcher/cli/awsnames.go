package cli

import (
	"net/netip"
	"strings"
)

// bucketNameProblem says why S3 would refuse name as a bucket name (beyond reBucket's
// characters and length), or "" when it would not: adjacent periods, an IP address,
// and the prefixes and suffixes S3 reserves.
func bucketNameProblem(name string) string {
	if strings.Contains(name, "..") {
		return "two adjacent periods"
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return "formatted as an IP address"
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return "the prefix " + p + " is reserved"
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, s) {
			return "the suffix " + s + " is reserved"
		}
	}
	return ""
}

// reservedTagPrefix starts the tag keys AWS keeps for itself (in any case).
const reservedTagPrefix = "aws:"

func reservedTagKey(key string) bool {
	return len(key) >= len(reservedTagPrefix) && strings.EqualFold(key[:len(reservedTagPrefix)], reservedTagPrefix)
}
