package databrickstest_test

import (
	"fmt"
	"net/http"

	"github.com/mlflowtrace/mlflowtrace-go/internal/databrickstest"
)

func Example() {
	w, err := databrickstest.Start(databrickstest.Config{}) // plain HTTP; New(t) for HTTPS in tests
	if err != nil {
		panic(err)
	}
	defer w.Close()
	exp := w.CreateExperiment("/Users/me@example.com/agent", databrickstest.ADLS)

	req, _ := http.NewRequest(http.MethodGet, w.URL+"/api/2.0/mlflow/experiments/get?experiment_id="+exp, nil)
	req.Header.Set("Authorization", "Bearer "+w.Token)
	resp, err := w.HTTPClient().Do(req)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, len(w.Traces()))
	// Output: 200 0
}
