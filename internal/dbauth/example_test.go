package dbauth_test

import (
	"fmt"
	"net/http"

	"github.com/mlflowtrace/mlflowtrace-go/internal/dbauth"
)

func ExampleResolve() {
	env := map[string]string{
		"DATABRICKS_HOST":  "my-workspace.cloud.databricks.com",
		"DATABRICKS_TOKEN": "dapi-example",
	}
	cfg, err := dbauth.Resolve(dbauth.Options{Getenv: func(k string) string { return env[k] }})
	if err != nil {
		panic(err)
	}
	req, _ := http.NewRequest(http.MethodGet, cfg.Host+"/api/2.0/mlflow/experiments/get?experiment_id=1", nil)
	_ = cfg.Credentials.Authorize(req)
	fmt.Println(cfg.Host, cfg.AuthType, req.Header.Get("Authorization") != "")

	_, err = dbauth.Resolve(dbauth.Options{Getenv: func(k string) string {
		return map[string]string{"DATABRICKS_HOST": "h", "DATABRICKS_CLIENT_ID": "sp"}[k]
	}})
	fmt.Println(err)
	// Output:
	// https://my-workspace.cloud.databricks.com pat true
	// databricks: DATABRICKS_CLIENT_ID is set but DATABRICKS_CLIENT_SECRET is not: set both
}
