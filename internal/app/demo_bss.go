package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"

	"github.com/google/uuid"
)

// loadBSSDemo registers the demo BSS installation (an Infiterra BSS selling
// the demo distributor's first contract) unless the credentials file's one
// still works, and returns its credentials-file entries.
func (a *App) loadBSSDemo(ctx context.Context, creds map[string]string) (map[string]string, error) {
	appID, key := creds["bss_application_id"], creds["bss_api_key"]
	if appID != "" && key != "" {
		if in, err := a.BSS.Authenticate(ctx, appID, key); err == nil && in.ContractID == DemoContractID {
			return map[string]string{"bss_application_id": appID, "bss_api_key": key}, nil
		}
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	appID, key = uuid.NewString(), base64.StdEncoding.EncodeToString(b[:])
	if err := a.BSS.EnsureInstallation(ctx, DemoDistributorID, DemoContractID, appID, key); err != nil {
		return nil, fmt.Errorf("demo BSS installation: %w", err)
	}
	return map[string]string{"bss_application_id": appID, "bss_api_key": key}, nil
}
