package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/impossiblecloud"
)

// send issues a request the way the README's curl commands do (with curl
// itself when the machine has it) and validates the exchange against the
// Impossible Cloud spec.
func send(t *testing.T, v *apitest.Validator, base, key, method, path, body string) (int, []byte) {
	t.Helper()
	var status int
	var out []byte
	if curl, err := exec.LookPath("curl"); err == nil {
		args := []string{"-s", "-o", "-", "-w", "\n%{http_code}", "-X", method,
			"-H", "Authorization: Bearer " + key}
		if body != "" {
			args = append(args, "-H", "Content-Type: application/json", "-d", body)
		}
		args = append(args, base+path)
		b, err := exec.Command(curl, args...).Output()
		if err != nil {
			t.Fatalf("curl %s %s: %v", method, path, err)
		}
		i := bytes.LastIndexByte(b, '\n')
		status, _ = strconv.Atoi(string(b[i+1:]))
		out = b[:i]
	} else {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		out, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		status = resp.StatusCode
	}
	h := http.Header{"Authorization": {"Bearer " + key}}
	var reqBody []byte
	if body != "" {
		reqBody = []byte(body)
		h.Set("Content-Type", "application/json")
	}
	v.Check(t, apitest.Request{Method: method, Path: path, Body: reqBody, Header: h},
		apitest.Response{Status: status, Header: http.Header{"Content-Type": {"application/json"}}, Body: out})
	return status, out
}

func decode(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatalf("bad JSON %q: %v", b, err)
	}
	return v
}

func readCreds(t *testing.T, dir string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "demo-credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"admin_key", "distributor_key", "partner_key"} {
		if m[k] == "" {
			t.Fatalf("demo-credentials.json lacks %s: %s", k, b)
		}
	}
	return m
}

// The "Get started" walkthrough of seeds 000/001, request by request, with
// the documents' bodies verbatim and their responses as documented.
func TestDemoWalkthrough(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s3Addr := freeAddr(t) // the same S3 address on both starts: its URL is in the credentials
	n := start(t, nil, "--demo", "--data-dir", dir, "--s3", s3Addr)
	if !strings.Contains(n.Stdout(), "Provider admin API key") {
		t.Errorf("first start did not print the admin key:\n%s", n.Stdout())
	}
	creds := readCreds(t, dir)
	key := creds["distributor_key"]
	v := apitest.NewValidator(t, impossiblecloud.Spec())
	base := n.URL

	status, body := send(t, v, base, key, "GET", "/impossiblecloud/v1/contract/list", "")
	wantContracts := `[
  {"id": "606f031c-0f85-4444-8c7d-4a8f1ede7cd3", "distributorId": "7e1fe78d-3f61-4215-8c48-eda9e1b08f13",
   "reservedCapacity": 100000000000000, "allocatedCapacity": 53000000000000, "costStorageGBCents": "100",
   "costEgressGBCents": "0", "currency": "EUR", "details": "Impossible Cloud Test Contract"},
  {"id": "bb0a102d-ad4b-4738-b405-561add97abbb", "distributorId": "7e1fe78d-3f61-4215-8c48-eda9e1b08f13",
   "reservedCapacity": 10000000000000, "allocatedCapacity": 0, "costStorageGBCents": "100",
   "costEgressGBCents": "0", "currency": "EUR", "details": "Another test contract"}
]`
	if status != 200 {
		t.Fatalf("contract list: %d %s", status, body)
	}
	if d := cmp.Diff(decode(t, []byte(wantContracts)), decode(t, body)); d != "" {
		t.Errorf("contract list differs from the document (-doc +got):\n%s", d)
	}

	status, body = send(t, v, base, key, "GET", "/impossiblecloud/v1/contract/606f031c-0f85-4444-8c7d-4a8f1ede7cd3/partners", "")
	if status != 200 {
		t.Fatalf("partners: %d %s", status, body)
	}
	var partners []map[string]any
	_ = json.Unmarshal(body, &partners)
	for _, want := range []map[string]any{
		{"id": "e37e6c0f-688e-4da4-8717-a52b48bcee3d", "name": "Test partner", "allocatedCapacity": 5e12},
		{"id": "e4985686-c089-46fd-ae82-0af7ce2888bf", "name": "Another test partner", "allocatedCapacity": 0.0},
	} {
		found := false
		for _, p := range partners {
			if p["id"] == want["id"] {
				found = true
				if p["name"] != want["name"] || p["allocatedCapacity"] != want["allocatedCapacity"] ||
					p["distributorContractId"] != "606f031c-0f85-4444-8c7d-4a8f1ede7cd3" {
					t.Errorf("partner %v: got %v", want["id"], p)
				}
			}
		}
		if !found {
			t.Errorf("partner %v missing from %s", want["id"], body)
		}
	}

	status, body = send(t, v, base, key, "POST", "/impossiblecloud/v1/partner", `{
  "allocatedCapacity": 5000000000000,
  "distributorContractId": "606f031c-0f85-4444-8c7d-4a8f1ede7cd3",
  "name": "New partner company"
}`)
	if status != 201 {
		t.Fatalf("create partner: %d %s", status, body)
	}
	var created map[string]any
	_ = json.Unmarshal(body, &created)
	id, _ := created["id"].(string)
	check := func(step string, body []byte, name string, capacity float64) {
		t.Helper()
		var p map[string]any
		_ = json.Unmarshal(body, &p)
		if p["id"] != id || p["name"] != name || p["allocatedCapacity"] != capacity ||
			p["distributorContractId"] != "606f031c-0f85-4444-8c7d-4a8f1ede7cd3" {
			t.Errorf("%s: got %s", step, body)
		}
	}
	check("create", body, "New partner company", 5e12)

	for _, step := range []struct {
		body, name string
		capacity   float64
	}{
		{`{
  "name": "Renamed partner"
}`, "Renamed partner", 5e12},
		{`{
  "allocatedCapacity": 250000000
}`, "Renamed partner", 250000000},
		{`{ "allocatedCapacity": 250000000,

"name": "Renamed partner" }`, "Renamed partner", 250000000},
	} {
		status, body = send(t, v, base, key, "PUT", "/impossiblecloud/v1/partner/"+id, step.body)
		if status != 200 {
			t.Fatalf("PUT %s: %d %s", step.body, status, body)
		}
		check("PUT "+step.body, body, step.name, step.capacity)
	}

	// A second --demo start on the same data dir duplicates nothing and
	// keeps the keys.
	if err := n.stop(); err != nil {
		t.Fatalf("stop: %v\n%s", err, n.Stderr())
	}
	n2 := start(t, nil, "--demo", "--data-dir", dir, "--s3", s3Addr)
	if strings.Contains(n2.Stdout(), "Provider admin API key") {
		t.Errorf("second start printed an admin key again")
	}
	if d := cmp.Diff(creds, readCreds(t, dir)); d != "" {
		t.Errorf("demo-credentials.json changed on restart:\n%s", d)
	}
	var contracts []map[string]any
	if s := call(t, "GET", n2.URL+"/impossiblecloud/v1/contract/list", key, "", &contracts); s != 200 || len(contracts) != 2 {
		t.Fatalf("after restart: %d, %d contracts", s, len(contracts))
	}
	var after []map[string]any
	call(t, "GET", n2.URL+"/impossiblecloud/v1/contract/606f031c-0f85-4444-8c7d-4a8f1ede7cd3/partners", key, "", &after)
	if len(after) != len(partners)+1 {
		t.Errorf("after restart: %d partners, want %d (the demo's plus the one created)", len(after), len(partners)+1)
	}
	if contracts[0]["allocatedCapacity"] != 53e12+250e6 {
		t.Errorf("allocated after restart: %v", contracts[0]["allocatedCapacity"])
	}
}
