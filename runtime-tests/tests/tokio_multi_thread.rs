runtime_tests::behaviour_suite!(runtime_tests::executors::TokioMultiThread);
